// Small improvements for browsers that run scripts. Every page works
// without this file: it adds "copy" and "print" buttons, and checks again
// for a case that is still being set up.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) {
      button.hidden = true;
      return;
    }
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 3000);
      }, function () {
        button.textContent = "Could not copy: select and copy it yourself";
      });
    });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var reload = document.querySelector("[data-reload-after]");
  if (reload) {
    var seconds = parseInt(reload.getAttribute("data-reload-after"), 10) || 3;
    setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
