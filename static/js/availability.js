// The working-hours editor (templates/doctors/availability_edit.html), enhanced.
//
// Without this module the page already works: every day ends with a blank
// row, the dates list with two, "Remove" is a checkbox, the "other time zone"
// box is always shown, and the server checks everything. With it:
//   - "+ Add hours" / "+ Add a date" clone the formset's empty form and count
//     it in TOTAL_FORMS;
//   - "Copy Monday to Tuesday–Friday" puts Monday's ranges on those days;
//   - a row ticked "Remove" fades at once;
//   - the "other time zone" box shows only when "Another zone…" is chosen;
//   - after a failed save, focus moves to the error summary.
//
// Wiring, by data-* attributes only:
//   [data-availability]     the form
//   [data-rows="<prefix>"]  one Django formset with that prefix (a weekday, or "overrides")
//   [data-rows-list]        the list its rows live in; [data-row] is one row
//   [data-rows-template]    a <template> holding the empty form ("__prefix__" = its index)
//   [data-rows-add]         the add button, hidden until shown here
//   [data-copy-monday]      the copy button, hidden until shown here; [data-copy-status] announces
//   [data-other-zone]       the box for a zone typed by name
//   [data-error-summary]    the message at the top after a failed save

const form = document.querySelector("[data-availability]");
const WEEKDAYS = ["tue", "wed", "thu", "fri"];

function rowsOf(editor) {
  return [...editor.querySelectorAll("[data-rows-list] > [data-row]")];
}

function addRow(editor) {
  const prefix = editor.dataset.rows;
  const list = editor.querySelector("[data-rows-list]");
  const template = editor.querySelector("template[data-rows-template]");
  const total = form.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
  const max = Number(form.querySelector(`input[name="${prefix}-MAX_NUM_FORMS"]`)?.value) || Infinity;
  if (!list || !template || !total || Number(total.value) >= max) return null;
  const index = Number(total.value);
  list.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(index)));
  total.value = String(index + 1);
  return list.lastElementChild;
}

function timesOf(row) {
  const start = row.querySelector('input[name$="-start"]');
  const end = row.querySelector('input[name$="-end"]');
  const remove = row.querySelector('input[name$="-DELETE"]');
  return { start, end, remove };
}

function copyMonday() {
  const monday = form.querySelector('[data-rows="mon"]');
  const ranges = rowsOf(monday)
    .map(timesOf)
    .filter(({ start, end, remove }) => start?.value && end?.value && !remove?.checked)
    .map(({ start, end }) => [start.value, end.value]);

  for (const day of WEEKDAYS) {
    const editor = form.querySelector(`[data-rows="${day}"]`);
    if (!editor) continue;
    const rows = rowsOf(editor);
    ranges.forEach(([start, end], i) => {
      const row = rows[i] ?? addRow(editor);
      if (!row) return;
      const fields = timesOf(row);
      fields.start.value = start;
      fields.end.value = end;
      if (fields.remove) fields.remove.checked = false;
      row.classList.remove("avl-range--removed");
    });
    // Rows beyond Monday's: emptied (a blank row is skipped) and ticked for removal.
    for (const row of rows.slice(ranges.length)) {
      const fields = timesOf(row);
      fields.start.value = "";
      fields.end.value = "";
      if (fields.remove) {
        fields.remove.checked = true;
        row.classList.add("avl-range--removed");
      }
    }
  }
  return ranges.length;
}

if (form) {
  for (const editor of form.querySelectorAll("[data-rows]")) {
    const button = editor.querySelector("[data-rows-add]");
    if (!button) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const row = addRow(editor);
      row?.querySelector("input")?.focus();
    });
  }

  form.addEventListener("change", (event) => {
    const box = event.target;
    if (box instanceof HTMLInputElement && box.name.endsWith("-DELETE")) {
      box.closest("[data-row]")?.classList.toggle("avl-range--removed", box.checked);
    }
  });

  const copy = form.querySelector("[data-copy-monday]");
  const copyStatus = form.querySelector("[data-copy-status]");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", () => {
      const count = copyMonday();
      if (copyStatus) {
        copyStatus.textContent = count
          ? `Copied Monday's ${count === 1 ? "range" : `${count} ranges`} to Tuesday–Friday. Save to keep them.`
          : "Monday has no hours to copy yet.";
      }
    });
  }

  const zone = form.elements.namedItem("timezone");
  const other = form.querySelector("[data-other-zone]");
  if (zone && other) {
    const sync = () => {
      other.hidden = zone.value !== "other";
    };
    zone.addEventListener("change", () => {
      sync();
      if (!other.hidden) other.querySelector("input")?.focus();
    });
    sync();
  }
}

document.querySelector("[data-error-summary]")?.focus();
