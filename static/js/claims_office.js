// "Invia all'ufficio sinistri": the total size of the files chosen, as the clerk ticks them.
(function () {
  var form = document.getElementById('claims-office-form');
  if (!form) { return; }
  var total = document.getElementById('office-total');
  var limit = parseInt(form.getAttribute('data-limit'), 10);
  function megabytes(bytes) { return (bytes / 1048576).toFixed(1).replace('.', ',') + ' MB'; }
  function update() {
    var sum = 0;
    form.querySelectorAll('.office-file').forEach(function (box) {
      if (box.checked) { sum += parseInt(box.getAttribute('data-size'), 10) || 0; }
    });
    total.textContent = megabytes(sum);
    total.classList.toggle('text-danger', sum > limit);
  }
  form.addEventListener('change', update);
  update();
})();
