// The profile editor (templates/patients/profile_edit.html), enhanced.
//
// Without this module the page already works: every list ends with blank rows
// to fill in, "Remove" is a checkbox, and the server validates everything.
// With it:
//   - the spare blank rows at the end of each list are taken away (one stays
//     in an empty list), and an "Add another" button clones the formset's
//     empty_form instead, counting each row in TOTAL_FORMS;
//   - a row ticked "Remove" is shown faded at once;
//   - after a failed save, focus moves to the error summary.
//
// Wiring, by data-* attributes only:
//   [data-rows="<prefix>"]   one list editor: a Django formset with that prefix
//   [data-rows-list]         the <ol> the rows live in
//   [data-rows-template]     a <template> with the empty row: "__prefix__" is the
//                            form index, "__number__" the row's number as shown
//   [data-rows-add]          the button, hidden until this module shows it
//   [data-row]               one row; [data-row-blank] a row with nothing in it
//   [data-error-summary]     the list of errors at the top of the page

for (const editor of document.querySelectorAll("[data-rows]")) {
  const prefix = editor.dataset.rows;
  const list = editor.querySelector("[data-rows-list]");
  const template = editor.querySelector("template[data-rows-template]");
  const button = editor.querySelector("[data-rows-add]");
  const total = editor.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
  const max = editor.querySelector(`input[name="${prefix}-MAX_NUM_FORMS"]`);
  if (!list || !template || !button || !total) continue;

  // Only blank rows at the end go: TOTAL_FORMS must still count every row left.
  const rows = [...list.querySelectorAll(":scope > [data-row]")];
  let kept = rows.length;
  while (kept > 0 && rows[kept - 1].hasAttribute("data-row-blank")) kept -= 1;
  kept = Math.max(kept, Math.min(rows.length, 1)); // an empty list keeps one row to type in
  for (const spare of rows.slice(kept)) spare.remove();
  total.value = String(kept);

  const limit = Number(max?.value) || Infinity;
  const update = () => {
    button.disabled = Number(total.value) >= limit;
  };

  button.addEventListener("click", () => {
    const index = Number(total.value);
    if (index >= limit) return;
    const html = template.innerHTML
      .replaceAll("__prefix__", String(index))
      .replaceAll("__number__", String(index + 1));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    update();
    list.lastElementChild?.querySelector("input, select, textarea")?.focus();
  });

  list.addEventListener("change", (event) => {
    const box = event.target;
    if (box instanceof HTMLInputElement && box.name.endsWith("-DELETE")) {
      box.closest("[data-row]")?.classList.toggle("pp-row--removed", box.checked);
    }
  });

  button.hidden = false;
  update();
}

document.querySelector("[data-error-summary]")?.focus();
