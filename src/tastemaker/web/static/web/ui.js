/* Tastemaker: small page behaviours, kept out of the HTML so the Content-Security-Policy can forbid
 * inline script. Everything also works without JavaScript.
 *   <form data-confirm="Question?">   asks before submitting (a plain form; htmx has hx-confirm)
 *   <input data-select-on-focus>      selects its text on focus (secrets to copy) */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !form.hasAttribute("hx-confirm")) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    }
  }, true);
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el instanceof HTMLInputElement && el.hasAttribute("data-select-on-focus")) el.select();
  });
})();
