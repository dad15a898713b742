// Doctor profile: "Use my current location" fills the clinic's latitude and
// longitude from the browser. Without this module (or without geolocation,
// which browsers offer only over HTTPS) the button stays hidden and the two
// fields are typed in by hand.
const button = document.querySelector("[data-use-location]");
const latitude = document.querySelector("[data-location-latitude]");
const longitude = document.querySelector("[data-location-longitude]");
const status = document.querySelector("[data-location-status]");

const say = (text) => {
  if (status) status.textContent = text;
};

if (button && latitude && longitude && "geolocation" in navigator && window.isSecureContext) {
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    say("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        // Six places is about 10 cm: what the columns keep.
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        const metres = Math.round(position.coords.accuracy);
        say(`Filled in, accurate to about ${metres} m. Check you are at your clinic, then save your profile.`);
        button.disabled = false;
      },
      (error) => {
        say(
          error.code === error.PERMISSION_DENIED
            ? "Your browser did not share your location. Allow it for this site, or type the numbers in."
            : "Your location could not be found just now. Try again, or type the numbers in.",
        );
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}
