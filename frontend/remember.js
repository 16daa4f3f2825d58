// On a review page: remember this review in this browser (known.js), so that the index page can list it. The view
// last shown is written again when the page is left (the page changes its query string as the person switches
// options). A browser that keeps no localStorage only loses the index page's list.
import { remember } from "./known.js";
import { reviewIdFromPath } from "./url.js";

function rememberThisPage() {
  const id = reviewIdFromPath(location.pathname);
  if (id === null) return;
  try {
    remember(localStorage, id, location.pathname + location.search, Date.now());
  } catch {
    // storage disabled or full: nothing else depends on it
  }
}

rememberThisPage();
addEventListener("pagehide", rememberThisPage);
