// The activity form: show only the fields that apply to the chosen kind (everything stays
// visible without script). Loaded as a file: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  const form = document.getElementById("activity-form");
  if (!form) {
    return;
  }
  const kind = form.querySelector("select[name=kind]");
  if (!kind) {
    return;
  }
  function update() {
    form.querySelectorAll("[data-activity-kinds]").forEach(function (block) {
      const kinds = block.getAttribute("data-activity-kinds").split(" ");
      block.hidden = kinds.indexOf(kind.value) === -1;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
