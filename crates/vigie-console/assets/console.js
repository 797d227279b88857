// The console's only script besides htmx (served from 'self': no inline script anywhere).
// Confirms destructive forms marked data-confirm, without an inline handler.
document.addEventListener("submit", function (e) {
  var msg = e.target && e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
}, true);
