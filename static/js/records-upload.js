// The records upload form (templates/records/_upload_form.html), enhanced.
//
// Without this module the form is a plain multipart POST and the page that
// comes back lists what was added and what was refused. With it:
//   - files can be dragged onto the form, and the chosen files are listed
//     with their sizes (one over the size cap is marked: the server will refuse it);
//   - the form is sent with XMLHttpRequest, whose upload progress events drive
//     a <progress> bar (fetch() cannot report upload progress); the server then
//     answers JSON and the page moves to the records list, which shows what
//     became of each file;
//   - a form error (no file chosen) is shown without leaving the page.
//
// Wiring, by data-* attributes only:
//   [data-upload-form]     data-max-bytes, data-max-files
//   [data-drop-zone]       the area that takes dropped files; [data-drop-prompt] inside
//   [data-chosen]          the list of chosen files
//   [data-progress-box]    shown while sending; [data-upload-progress] the bar, [data-progress-label] its words
//   [data-upload-problem]  where a problem is said
//   [data-upload-button]   disabled while sending

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

function enhance(form) {
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-drop-zone]");
  const prompt = form.querySelector("[data-drop-prompt]");
  const chosen = form.querySelector("[data-chosen]");
  const box = form.querySelector("[data-progress-box]");
  const bar = form.querySelector("[data-upload-progress]");
  const label = form.querySelector("[data-progress-label]");
  const problem = form.querySelector("[data-upload-problem]");
  const button = form.querySelector("[data-upload-button]");
  const maxBytes = Number(form.dataset.maxBytes) || 0;
  const maxFiles = Number(form.dataset.maxFiles) || 0;
  if (!input) return;

  function say(text) {
    problem.textContent = text;
    problem.hidden = !text;
  }

  function listChosen() {
    chosen.replaceChildren();
    const files = Array.from(input.files || []);
    for (const file of files) {
      const item = document.createElement("li");
      item.className = "rec-chosen__item";
      const name = document.createElement("span");
      name.className = "rec-chosen__name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "rec-chosen__size";
      size.textContent = sizeText(file.size);
      item.append(name, size);
      if (maxBytes && file.size > maxBytes) {
        const note = document.createElement("span");
        note.className = "rec-chosen__warn";
        note.textContent = `larger than ${sizeText(maxBytes)}: it will not be accepted`;
        item.append(note);
      }
      chosen.append(item);
    }
    chosen.hidden = files.length === 0;
    say(maxFiles && files.length > maxFiles ? `Choose at most ${maxFiles} files at a time.` : "");
  }

  input.addEventListener("change", listChosen);

  if (zone && prompt && "DataTransfer" in window) {
    prompt.hidden = false;
    zone.classList.add("rec-drop--ready");
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.classList.add("rec-drop--over");
      });
    }
    for (const type of ["dragleave", "dragend"]) {
      zone.addEventListener(type, () => zone.classList.remove("rec-drop--over"));
    }
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("rec-drop--over");
      if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
      event.preventDefault();
      input.files = event.dataTransfer.files;
      listChosen();
    });
  }

  form.addEventListener("submit", (event) => {
    if (!window.FormData || !window.XMLHttpRequest) return; // the plain form posts itself
    event.preventDefault();
    if (!input.files || input.files.length === 0) {
      say("Choose at least one file to upload.");
      input.focus();
      return;
    }
    say("");
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";

    box.hidden = false;
    bar.value = 0;
    label.textContent = "Uploading… 0%";
    button.disabled = true;

    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      const percent = Math.round((progress.loaded / progress.total) * 100);
      bar.value = percent;
      label.textContent = `Uploading… ${percent}%`;
    });
    request.upload.addEventListener("load", () => {
      bar.value = 100;
      label.textContent = "Uploaded. Checking your files…";
    });
    request.addEventListener("load", () => {
      const answer = request.response || {};
      if (request.status === 200 && answer.redirect) {
        label.textContent = "Done. Showing your records…";
        window.location.assign(answer.redirect);
        return;
      }
      box.hidden = true;
      button.disabled = false;
      const errors = Array.isArray(answer.errors) ? answer.errors : [];
      say(errors.length ? errors.join(" ") : "The upload did not go through. Please try again.");
    });
    request.addEventListener("error", () => {
      box.hidden = true;
      button.disabled = false;
      say("The upload failed: check your connection and try again.");
    });
    request.send(new FormData(form));
  });
}

for (const form of document.querySelectorAll("[data-upload-form]")) {
  enhance(form);
}
