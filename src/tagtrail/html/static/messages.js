// The Messages pages: fill the body from a file; send a recipients file and download the result.
"use strict";
(function () {
  const bodyFile = document.getElementById("body-file");
  if (bodyFile) {
    bodyFile.addEventListener("change", () => {
      const file = bodyFile.files[0];
      if (file) file.text().then((text) => { document.getElementById("body").value = text; });
    });
  }
  const form = document.getElementById("render-form");
  if (!form) return;
  const status = document.getElementById("render-status");
  async function download(format) {
    const file = document.getElementById("recipients-file").files[0];
    if (!file) { status.textContent = "Choose a recipients CSV first."; return; }
    status.textContent = "Rendering…";
    const answer = await fetch(`/ui/messages/${form.dataset.message}/render?format=${format}`, {
      method: "POST",
      headers: { "x-csrf-token": form.dataset.csrf, "content-type": "text/csv" },
      body: await file.text(),
    });
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({ error: answer.statusText }));
      status.textContent = problem.error;
      return;
    }
    const blob = await answer.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `message-${form.dataset.message}.${format === "csv" ? "csv" : "jsonl"}`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    status.textContent = "Done: each recipient was recorded as a send.";
  }
  document.getElementById("download-jsonl").addEventListener("click", () => download("jsonl"));
  document.getElementById("download-csv").addEventListener("click", () => download("csv"));
})();
