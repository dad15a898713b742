// The prescription editor (templates/prescriptions/editor.html), enhanced.
//
// Without this module the page already works: blank remedy rows at the end,
// a Position number and a Remove tick on each row, the remedy typed in full
// or as its abbreviation (the server finds it in the catalogue). With it:
//   - remedy suggestions under the name field, from the catalogue, as you
//     type (an ARIA combobox: arrows, Enter, Escape, or a tap);
//   - "Add remedy" clones the formset's empty row; spare blank rows go;
//   - Move up / Move down buttons reorder rows (they renumber the hidden
//     Position fields), Remove ticks the hidden box and offers Undo;
//   - the pill size shows only for globules, the LM plan only for LM potencies;
//   - after a failed save, focus moves to the error summary.
//
// Wiring, by data-* attributes only:
//   [data-rx-editor][data-remedy-url]  the form, and where suggestions come from
//   [data-rows="<prefix>"]             the formset; [data-rows-list] its <ol>,
//   template[data-rows-template]       the empty row ("__prefix__", "__number__"),
//   [data-rows-add]                    the Add button
//   [data-row]                         one row; [data-row-blank] when untouched
//   [data-row-tools] [data-row-up] [data-row-down] [data-row-remove] [data-row-manage]
//   [data-row-order]                   a row's Position input
//   [data-row-number]                  where a row's number is written
//   [data-remedy-input] [data-combo]   the remedy field and its box
//   [data-pill-size] [data-lm-plan]    shown or hidden by form and potency

const editor = document.querySelector("[data-rx-editor]");

if (editor) {
  const rowsBox = editor.querySelector("[data-rows]");
  const prefix = rowsBox?.dataset.rows ?? "items";
  const list = rowsBox?.querySelector("[data-rows-list]");
  const template = rowsBox?.querySelector("template[data-rows-template]");
  const addButton = rowsBox?.querySelector("[data-rows-add]");
  const total = editor.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
  const max = editor.querySelector(`input[name="${prefix}-MAX_NUM_FORMS"]`);
  const remedyUrl = editor.dataset.remedyUrl;

  const rows = () => [...list.querySelectorAll(":scope > [data-row]")];
  const field = (row, name) => row.querySelector(`[name$="-${name}"]`);

  // --- rows: add, move, remove -------------------------------------------------------

  const renumber = () => {
    let position = 0;
    for (const row of rows()) {
      const removed = field(row, "DELETE")?.checked;
      if (!removed) position += 1;
      for (const number of row.querySelectorAll("[data-row-number]")) {
        number.textContent = removed ? "" : String(position);
      }
      const order = row.querySelector("[data-row-order]");
      if (order) order.value = removed ? "" : String(position);
    }
    const live = rows().filter((row) => !field(row, "DELETE")?.checked);
    live.forEach((row, index) => {
      row.querySelector("[data-row-up]").disabled = index === 0;
      row.querySelector("[data-row-down]").disabled = index === live.length - 1;
    });
    if (addButton) addButton.disabled = Number(total.value) >= (Number(max?.value) || Infinity);
  };

  const enhanceRow = (row) => {
    row.querySelector("[data-row-tools]").hidden = false;
    row.querySelector("[data-row-manage]").hidden = true;
    const removed = field(row, "DELETE")?.checked;
    if (removed) markRemoved(row, true);
    setUpCombo(row.querySelector("[data-remedy-input]"));
    syncForm(row);
    syncPotency(row, false);
  };

  const markRemoved = (row, removed) => {
    field(row, "DELETE").checked = removed;
    row.classList.toggle("rx-row--removed", removed);
    row.classList.toggle("rx-row--gone", removed);
    row.querySelector("[data-remove-label]").textContent = removed ? "Undo remove" : "Remove";
    renumber();
  };

  if (list && template && addButton && total) {
    // Spare blank rows at the end go (one stays in an empty list); TOTAL_FORMS counts the rest.
    const all = rows();
    let kept = all.length;
    while (kept > 0 && all[kept - 1].hasAttribute("data-row-blank")) kept -= 1;
    kept = Math.max(kept, Math.min(all.length, 1));
    for (const spare of all.slice(kept)) spare.remove();
    total.value = String(kept);
    rows().forEach(enhanceRow);

    addButton.addEventListener("click", () => {
      const index = Number(total.value);
      if (index >= (Number(max?.value) || Infinity)) return;
      const html = template.innerHTML.replaceAll("__prefix__", String(index)).replaceAll("__number__", String(index + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const row = list.lastElementChild;
      enhanceRow(row);
      renumber();
      row.querySelector("[data-remedy-input]")?.focus();
    });
    addButton.hidden = false;

    list.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      const row = button?.closest("[data-row]");
      if (!button || !row) return;
      if (button.matches("[data-row-remove]")) {
        markRemoved(row, !field(row, "DELETE").checked);
        button.focus();
      } else if (button.matches("[data-row-up], [data-row-down]")) {
        const live = rows().filter((r) => !field(r, "DELETE")?.checked);
        const at = live.indexOf(row);
        const other = live[button.matches("[data-row-up]") ? at - 1 : at + 1];
        if (!other) return;
        if (button.matches("[data-row-up]")) other.before(row);
        else other.after(row);
        renumber();
        (button.disabled ? row.querySelector("[data-row-up]:not(:disabled), [data-row-down]:not(:disabled)") : button)?.focus();
      }
    });
    renumber();
  }

  // --- form and potency: what shows ------------------------------------------------------

  function syncForm(row) {
    const form = field(row, "dosage_form");
    const pill = row.querySelector("[data-pill-size]");
    if (!form || !pill) return;
    const globules = form.value === "globules";
    pill.hidden = !globules;
    if (!globules) field(row, "pill_size").value = "";
  }

  function syncPotency(row, openIt) {
    const potency = field(row, "potency");
    const plan = row.querySelector("[data-lm-plan]");
    if (!potency || !plan) return;
    const text = potency.value.trim().toUpperCase();
    const isLm = text.startsWith("LM") || text.startsWith("0/") || /^\d+\s*LM$/.test(text);
    const hasPlan = [...plan.querySelectorAll("input")].some((input) => input.value !== "");
    plan.hidden = !isLm && !hasPlan;
    if (isLm && openIt) plan.open = true;
  }

  editor.addEventListener("change", (event) => {
    const row = event.target.closest?.("[data-row]");
    if (!row) return;
    if (event.target.name?.endsWith("-dosage_form")) syncForm(row);
  });
  editor.addEventListener("input", (event) => {
    const row = event.target.closest?.("[data-row]");
    if (row && event.target.name?.endsWith("-potency")) syncPotency(row, true);
  });

  // --- remedy suggestions (ARIA combobox) --------------------------------------------------

  function setUpCombo(input) {
    if (!input || input.dataset.comboReady || !remedyUrl) return;
    input.dataset.comboReady = "1";
    const box = input.closest("[data-combo]");
    const row = input.closest("[data-row]");
    const listbox = document.createElement("ul");
    listbox.id = `${input.id}-suggestions`;
    listbox.className = "rx-combo__list";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", "Remedies");
    listbox.hidden = true;
    box.append(listbox);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    let results = [];
    let active = -1;
    let timer = 0;
    let controller = null;

    const close = () => {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };

    const highlight = (index) => {
      active = index;
      [...listbox.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
      const current = listbox.children[index];
      if (current) {
        input.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };

    const choose = (index) => {
      const remedy = results[index];
      if (!remedy) return;
      input.value = remedy.name;
      close();
      const form = field(row, "dosage_form");
      if (remedy.tissue_salt && form && form.value === "globules") {
        form.value = "biochemic";
        syncForm(row);
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
      field(row, "potency")?.focus();
    };

    const render = () => {
      listbox.replaceChildren(
        ...results.map((remedy, i) => {
          const option = document.createElement("li");
          option.id = `${listbox.id}-${i}`;
          option.className = "rx-combo__option";
          option.setAttribute("role", "option");
          option.setAttribute("aria-selected", "false");
          const name = document.createElement("span");
          name.textContent = remedy.name;
          const abbr = document.createElement("span");
          abbr.className = "rx-combo__abbr";
          abbr.textContent = remedy.abbreviation;
          option.append(name, abbr);
          // pointerdown, not click: the input keeps focus and its blur does not close the list first.
          option.addEventListener("pointerdown", (event) => {
            event.preventDefault();
            choose(i);
          });
          return option;
        }),
      );
      const open = results.length > 0;
      listbox.hidden = !open;
      input.setAttribute("aria-expanded", String(open));
      highlight(-1);
    };

    const search = async () => {
      const query = input.value.trim();
      if (query.length < 2) {
        results = [];
        render();
        return;
      }
      controller?.abort();
      controller = new AbortController();
      try {
        const response = await fetch(`${remedyUrl}?q=${encodeURIComponent(query)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: controller.signal,
        });
        if (!response.ok) return;
        const data = await response.json();
        if (input.value.trim() !== query) return; // typed on meanwhile
        results = data.results ?? [];
        render();
      } catch (error) {
        if (error.name !== "AbortError") close();
      }
    };

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", (event) => {
      const open = !listbox.hidden;
      if (event.key === "ArrowDown" && results.length) {
        event.preventDefault();
        if (!open) render();
        highlight((active + 1) % results.length);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active <= 0 ? results.length - 1 : active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }

  document.querySelector("[data-error-summary]")?.focus();
}
