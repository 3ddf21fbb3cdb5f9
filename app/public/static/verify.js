// While a file is being verified (a document with several signatures takes seconds), say so
// and keep the button from being pressed twice. Without JavaScript the form still works.
(function () {
  "use strict";
  var form = document.querySelector("form[data-verify-form]");
  if (!form) return;
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    var busy = document.getElementById("verify-progress");
    if (button) button.disabled = true;
    if (busy) busy.hidden = false;
  });
})();
