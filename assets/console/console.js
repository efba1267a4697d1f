// The console's enhancements of its own: the category picker's search box hides the
// categories (and the branches) that do not match — without script every category is shown —
// and a chosen import file is read into the form.
(function () {
  'use strict';
  function wire(root) {
    root.querySelectorAll('input[data-filter]').forEach(function (box) {
      if (box.dataset.wired) return;
      box.dataset.wired = '1';
      var tree = document.getElementById(box.dataset.filter);
      if (!tree) return;
      box.addEventListener('input', function () {
        var text = box.value.trim().toLowerCase();
        var items = Array.prototype.slice.call(tree.querySelectorAll('li')).reverse();
        items.forEach(function (li) {
          var own = li.querySelector(':scope > label').textContent.toLowerCase();
          var child = li.querySelector(':scope > ul > li:not([hidden])');
          li.hidden = text !== '' && own.indexOf(text) < 0 && !child;
        });
      });
    });
  }
  // A chosen file's text goes into its textarea (without script, the text is pasted).
  function files(root) {
    root.querySelectorAll('input[type=file][data-into]').forEach(function (input) {
      input.addEventListener('change', function () {
        var into = document.getElementById(input.dataset.into);
        if (!into || !input.files[0]) return;
        input.files[0].text().then(function (text) { into.value = text; });
      });
    });
  }
  document.addEventListener('DOMContentLoaded', function () { wire(document); files(document); });
  document.addEventListener('htmx:afterSwap', function (e) { wire(e.target); });
})();
