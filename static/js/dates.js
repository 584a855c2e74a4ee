// Flask-Admin's date pickers (daterangepicker on moment.js) take month and day names and the
// first day of the week from moment's locale: Italian (Monday first) when the page is in Italian.
// Loaded after moment.js and before Flask-Admin's form.js builds the pickers on DOM ready.
(function () {
  var script = document.currentScript;
  var locale = script && script.getAttribute('data-locale');
  if (window.moment && locale) { window.moment.locale(locale); }
})();
