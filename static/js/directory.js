// The doctor directory (templates/doctors/directory.html), enhanced.
//
// Without this module the page already works: type a city or PIN code, pick
// filters, press Search. With it:
//   - "Use my location" appears where the browser can tell where it is; it
//     fills the hidden lat/lng inputs, clears the typed place and submits
//     (with a place, "Best match" lists the nearest first);
//   - typing a place forgets a location taken from the browser;
//   - changing the sort order searches at once.
//
// Wiring, by data-* attributes only:
//   [data-directory-form]   the search form, with inputs named near, lat, lng, sort
//   [data-locate-box]       holds the button and its status line; hidden until shown here
//   [data-locate]           the "Use my location" button
//   [data-locate-status]    where progress and problems are announced

const form = document.querySelector("[data-directory-form]");

if (form) {
  const near = form.elements.namedItem("near");
  const lat = form.elements.namedItem("lat");
  const lng = form.elements.namedItem("lng");
  const sort = form.elements.namedItem("sort");
  const box = form.querySelector("[data-locate-box]");
  const button = form.querySelector("[data-locate]");
  const status = form.querySelector("[data-locate-status]");

  const say = (text) => {
    if (status) status.textContent = text;
  };

  if (box && button && lat && lng && "geolocation" in navigator) {
    box.hidden = false;
    button.addEventListener("click", () => {
      button.disabled = true;
      say("Finding where you are…");
      navigator.geolocation.getCurrentPosition(
        (position) => {
          // Five decimals is about a metre: plenty for "km away", no more precise than needed.
          lat.value = position.coords.latitude.toFixed(5);
          lng.value = position.coords.longitude.toFixed(5);
          if (near) near.value = "";
          say("Searching near you…");
          form.requestSubmit();
        },
        (error) => {
          button.disabled = false;
          say(
            error.code === error.PERMISSION_DENIED
              ? "Location is turned off for this site. Type your city or PIN code instead."
              : "We could not find your location. Type your city or PIN code instead.",
          );
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 },
      );
    });
  }

  near?.addEventListener("input", () => {
    if (lat) lat.value = "";
    if (lng) lng.value = "";
    say("");
  });

  sort?.addEventListener("change", () => form.requestSubmit());
}
