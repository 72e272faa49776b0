// The safety check-in page: a live countdown, and (only when the worker opted in, only while
// a check-in runs) the phone's position sent every few minutes. Without this file the page
// works the same, with the due time and minutes left as of the page's load.
document.addEventListener("DOMContentLoaded", () => {
  const countdown = document.querySelector(".safety-countdown[data-due]");
  if (countdown) {
    const due = Date.parse(countdown.dataset.due);
    const left = countdown.querySelector(".safety-left");
    const tick = () => {
      const minutes = Math.floor((due - Date.now()) / 60000);
      left.textContent = minutes > 0 ? `${minutes} min left` : "Overdue: tap \"I'm safe\" now";
    };
    tick();
    setInterval(tick, 30000);
  }

  const running = document.querySelector("[data-position-url]");
  if (!running || !("geolocation" in navigator)) { return; }
  const url = running.dataset.positionUrl;
  const token = running.dataset.csrf;
  let last = 0;
  const send = (pos) => {
    const now = Date.now();
    if (now - last < 120000) { return; } // at most one position every two minutes
    last = now;
    const body = new URLSearchParams({
      csrf_token: token,
      latitude: pos.coords.latitude.toFixed(6),
      longitude: pos.coords.longitude.toFixed(6),
      accuracy: Math.round(pos.coords.accuracy || 0).toString(),
    });
    fetch(url, { method: "POST", body, credentials: "same-origin" }).then((r) => {
      if (r.status === 409 || r.status === 404) { navigator.geolocation.clearWatch(watch); }
    }).catch(() => {});
  };
  const watch = navigator.geolocation.watchPosition(send, () => {}, {
    enableHighAccuracy: true, maximumAge: 60000, timeout: 30000,
  });
});
