// The in-app scanner. qr-scanner is imported here only, so no other page pays for it.
const box = document.getElementById("scanner");
const status = document.getElementById("scan-status");
let scanner = null;

function say(text) { status.textContent = text; }

function follow(result) {
  const text = typeof result === "string" ? result : result.data;
  let url;
  try { url = new URL(text, window.location.href); } catch (error) { url = null; }
  // Only our own school codes: a code must never send a signed-in user somewhere else.
  if (!url || url.origin !== window.location.origin || !url.pathname.startsWith("/s/")) {
    say(box.dataset.notOurs);
    return;
  }
  if (scanner) scanner.stop();
  window.location.assign(url.pathname);
}

async function library() {
  const module = await import(box.dataset.lib);
  return module.default;
}

document.getElementById("scan-start").addEventListener("click", async () => {
  try {
    const QrScanner = await library();
    const video = document.getElementById("scan-video");
    video.hidden = false;
    scanner = scanner || new QrScanner(video, follow, { preferredCamera: "environment", returnDetailedScanResult: true });
    await scanner.start();
    say(box.dataset.scanning);
  } catch (error) {
    say(box.dataset.noCamera);
  }
});

document.getElementById("scan-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const QrScanner = await library();
    follow(await QrScanner.scanImage(file, { returnDetailedScanResult: true }));
  } catch (error) {
    say(box.dataset.notFound);
  }
});
