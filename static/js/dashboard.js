// The home page's charts: the figures come from the app itself (data-url, same scope as
// the page), drawn with the vendored Chart.js. Without JavaScript the page's tables say the same.
(function () {
  'use strict';
  var script = document.currentScript;
  var url = script && script.dataset.url;
  if (!url || typeof window.Chart === 'undefined') { return; }

  var COLOURS = {open: '#007bff', overdue: '#dc3545', trend: '#dc3545', states: '#6c757d'};
  var charts = {};
  window.gessinDashboardCharts = charts;  // for the browser tests: which charts were drawn

  function bar(canvas, labels, datasets, stacked) {
    return new window.Chart(canvas, {
      type: 'bar',
      data: {labels: labels, datasets: datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {legend: {display: datasets.length > 1}},
        scales: {x: {stacked: !!stacked}, y: {stacked: !!stacked, beginAtZero: true, ticks: {precision: 0}}}
      }
    });
  }

  function draw(data) {
    var text = data.text;
    document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var kind = canvas.dataset.chart;
      if (kind === 'states') {
        charts.states = bar(canvas, data.states.map(function (s) { return s.label; }),
          [{label: text.claims, data: data.states.map(function (s) { return s.count; }),
            backgroundColor: COLOURS.states}]);
        canvas.addEventListener('click', function (event) {  // a bar opens that state's claims
          var hit = charts.states.getElementsAtEventForMode(event, 'nearest', {intersect: true}, false);
          if (hit.length) { window.location.href = data.states[hit[0].index].url; }
        });
      } else if (kind === 'trend') {
        charts.trend = new window.Chart(canvas, {
          type: 'line',
          data: {
            labels: data.trend.map(function (w) { return w.label; }),
            datasets: [{label: text.became_overdue, data: data.trend.map(function (w) { return w.claims; }),
                        borderColor: COLOURS.trend, backgroundColor: COLOURS.trend, tension: 0}]
          },
          options: {responsive: true, maintainAspectRatio: false, animation: false,
                    plugins: {legend: {display: false}},
                    scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
        });
      } else if (kind === 'centres' || kind === 'lawyers') {
        var rows = data[kind];
        charts[kind] = bar(canvas, rows.map(function (r) { return r.name; }), [
          {label: text.not_overdue, data: rows.map(function (r) { return r.open - r.overdue; }), backgroundColor: COLOURS.open},
          {label: text.overdue, data: rows.map(function (r) { return r.overdue; }), backgroundColor: COLOURS.overdue}
        ], true);
      }
    });
    document.getElementById('dashboard').dataset.charts = Object.keys(charts).sort().join(' ');
  }

  fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
    .then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function (error) {
      document.getElementById('dashboard').dataset.charts = 'error';
      if (window.console) { window.console.warn('dashboard charts:', error); }
    });
})();
