// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The business switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  // Move focus to the first form error so keyboard and screen-reader users land on it.
  const problem = document.querySelector("[data-focus]");
  if (problem) problem.focus();
});

// Destructive actions ask first (the form, or the one of its buttons that was pressed);
// slow ones (uploads, payments) say they are working.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const pressed = event.submitter && event.submitter.getAttribute("data-confirm");
  const question = pressed || form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const button = event.submitter || form.querySelector("button[type=submit]");
  if (button && button.dataset.busy) {
    button.setAttribute("aria-busy", "true");
    button.textContent = button.dataset.busy;
    // Disable after the submit has captured the button's value.
    setTimeout(() => { button.disabled = true; }, 0);
  }
});

// Links that leave for a slow page (the payment provider) say so while it loads.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-busy]");
  if (!link) return;
  link.setAttribute("aria-busy", "true");
  link.textContent = link.dataset.busy;
});

// "Use my location" on the search form fills latitude and longitude.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-geolocate]");
  if (!button || !navigator.geolocation) return;
  button.textContent = "Locating…";
  navigator.geolocation.getCurrentPosition((pos) => {
    const form = button.form;
    form.elements.lat.value = pos.coords.latitude.toFixed(4);
    form.elements.lon.value = pos.coords.longitude.toFixed(4);
    form.elements.near.value = "";
    button.textContent = "Using your location";
  }, () => { button.textContent = "Location unavailable"; });
});
