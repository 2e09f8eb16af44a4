// Contacts pages. Loaded as a file: the CSP allows no inline scripts. The import
// progress text comes from Django's JavaScript catalog (/jsi18n/, loaded first).

// "Select every contact on this page": ticks or clears the row checkboxes.
document.getElementById("contacts-select-page")?.addEventListener("change", (event) => {
  for (const box of document.querySelectorAll('.contacts-table input[name="ids"]')) {
    box.checked = event.target.checked;
  }
});

// An import's progress page polls the job's status every second and moves the bar;
// the report comes with one reload when the job is over.
(() => {
  const box = document.getElementById("csv-progress");
  if (!box) return;
  const bar = document.getElementById("csv-progress-bar");
  const text = document.getElementById("csv-progress-text");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const job = await response.json();
        if (job.finished) { window.location.reload(); return; }
        bar.value = job.percent;
        bar.textContent = `${job.percent}%`;
        const locale = document.documentElement.lang || undefined;
        text.textContent = job.status === "queued"
          ? gettext("Waiting to start…")
          : interpolate(ngettext(
            "Importing: %(processed)s of %(total_text)s row",
            "Importing: %(processed)s of %(total_text)s rows",
            job.total_rows,
          ), {
            processed: job.processed_rows.toLocaleString(locale),
            total_text: job.total_rows.toLocaleString(locale),
          }, true) + ` (${job.percent}%)`;
      }
    } catch (error) { /* offline for a moment: try again */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
})();
