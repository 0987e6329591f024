// Follows a background job: polls its JSON, moves the progress bar, reloads when it ends.
// The page marks the element to update with data-job-url (no inline script: CSP).
(function () {
  "use strict";
  const box = document.querySelector("[data-job-url]");
  if (!box) {
    return;
  }
  const url = box.getAttribute("data-job-url");
  const bar = box.querySelector(".progress-bar");
  const meter = box.querySelector("[role=progressbar]");
  const phase = box.querySelector("[data-job-phase]");
  const count = box.querySelector("[data-job-count]");
  let delay = 500;

  function show(percent) {
    // An unknown total shows a full, striped, moving bar; a known one its share.
    const width = percent === null || percent === undefined || percent === "" ? 100 : Number(percent);
    bar.style.width = width + "%";
    meter.setAttribute("aria-valuenow", String(width));
  }

  function update(state) {
    show(state.total ? state.percent : null);
    if (state.phase_label) {
      phase.textContent = state.phase_label;
    }
    count.textContent = state.total ? state.progress + " / " + state.total : "";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        update(state);
        if (state.finished) {
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.5, 2000);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }

  show(meter.getAttribute("data-job-percent"));
  window.setTimeout(poll, delay);
})();
