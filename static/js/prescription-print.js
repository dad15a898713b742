// The printable prescription (templates/prescriptions/detail.html): a Print
// button, shown only when this module runs; without it the browser's own
// Print menu does the same, and the page's print CSS keeps only the prescription.
//
// Wiring: [data-print] is the button (rendered hidden).

for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
