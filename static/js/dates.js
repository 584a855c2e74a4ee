// Flask-Admin's date pickers (daterangepicker on moment.js) take month and day names and the
// first day of the week from moment's locale: Italian (Monday first) when the page is in Italian.
// Loaded after moment.js and before Flask-Admin's form.js builds the pickers on DOM ready.
(function () {
  var script = document.currentScript;
  var locale = script && script.getAttribute('data-locale');
  if (window.moment && locale) { window.moment.locale(locale); }
  var labels = JSON.parse((script && script.getAttribute('data-labels')) || '{}');

  // The grids' date-range filters (admin_views/base.py DateBetweenFilter, type "gessin-daterange"):
  // Flask-Admin's filter script would build them with YYYY-MM-DD, " to " and English buttons, so
  // it leaves them as plain boxes and they get the Italian picker here, when the page is ready
  // and, for a filter added later, when its box first takes the focus.
  var FORMAT = 'DD/MM/YYYY', SEPARATOR = ' - ';
  var ISO_RANGE = /^\s*(\d{4}-\d{2}-\d{2})\s+to\s+(\d{4}-\d{2}-\d{2})\s*$/;

  function rangeArgs() {
    var data = document.getElementById('filter-groups-data');
    var args = {};
    if (!data) { return args; }
    var groups = JSON.parse(data.textContent);
    Object.keys(groups).forEach(function (name) {
      groups[name].forEach(function (flt) { if (flt.type === 'gessin-daterange') { args[flt.arg] = true; } });
    });
    return args;
  }

  function isRangeBox(el, args) {
    var match = /^flt\d+_(.+)$/.exec(el.name || '');
    return el.matches('input.filter-val') && match && args[match[1]];
  }

  function italianPicker(el) {
    if (el.getAttribute('data-gessin-picker')) { return false; }
    var iso = ISO_RANGE.exec(el.value);  // a link saved before the Italian picker
    if (iso) {
      el.value = moment(iso[1], 'YYYY-MM-DD').format(FORMAT) + SEPARATOR + moment(iso[2], 'YYYY-MM-DD').format(FORMAT);
    }
    el.setAttribute('data-gessin-picker', '1');
    el.setAttribute('data-date-format', FORMAT);
    el.setAttribute('placeholder', labels.placeholder || 'gg/mm/aaaa - gg/mm/aaaa');
    el.setAttribute('autocomplete', 'off');
    window.jQuery(el).daterangepicker({
      format: FORMAT, separator: SEPARATOR, showDropdowns: true, timePicker: false,
      locale: {applyLabel: labels.apply, cancelLabel: labels.cancel, fromLabel: labels.from, toLabel: labels.to}
    }, function () { window.jQuery(el).trigger('change'); });
    return true;
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (!window.jQuery || !window.jQuery.fn.daterangepicker) { return; }
    var args = rangeArgs();
    document.querySelectorAll('input.filter-val').forEach(function (el) {
      if (isRangeBox(el, args)) { italianPicker(el); }
    });
    document.addEventListener('focusin', function (event) {
      var el = event.target;
      if (el instanceof Element && isRangeBox(el, args) && italianPicker(el)) {
        window.jQuery(el).data('daterangepicker').show();
      }
    });
  });
})();
