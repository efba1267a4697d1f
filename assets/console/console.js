// The console's one enhancement of its own: the category picker's search box hides the
// categories (and the branches) that do not match. Without script every category is shown.
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
  document.addEventListener('DOMContentLoaded', function () { wire(document); });
  document.addEventListener('htmx:afterSwap', function (e) { wire(e.target); });
})();
