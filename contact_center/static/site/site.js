/* Northwind Bikes demo site: tiny progressive enhancements (no inline script). */
(function () {
  "use strict";
  // Frame size picker on the product page.
  document.querySelectorAll(".options").forEach((group) => {
    group.addEventListener("click", (event) => {
      const button = event.target.closest(".option");
      if (!button) return;
      group.querySelectorAll(".option").forEach((b) => {
        b.classList.toggle("selected", b === button);
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    });
  });
  // The checkout is a demo: never submit anything.
  const form = document.getElementById("checkout-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const note = document.getElementById("checkout-note");
      // The page carries its own words (the English and the Persian shop alike).
      note.textContent = note.dataset.thanks || "";
    });
  }
})();
