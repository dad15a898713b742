// Account settings nav on a phone: one row of links that scrolls sideways.
// Bring the current page's link into view; without this module the row
// simply starts at its first link.
const list = document.querySelector("[data-scroll-to-current]");
const current = list?.querySelector('[aria-current="page"]');
if (list && current && list.scrollWidth > list.clientWidth) {
  const item = current.parentElement;
  list.scrollLeft = item.offsetLeft - (list.clientWidth - item.offsetWidth) / 2;
}
