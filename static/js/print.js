// The print bar's "Drukuj" button (templates/documents/base.html): a file, because the site's
// Content-Security-Policy allows no inline handlers.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
