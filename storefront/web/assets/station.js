// The station's scan box. A USB scanner types the label and presses Enter: Enter records
// the move last chosen (the button marked .last). Where the browser has BarcodeDetector,
// the camera button reads the QR code live; elsewhere the photo input sends a picture of
// the label, read on the server.
(function () {
  const form = document.getElementById('scan');
  const box = document.getElementById('label');
  if (!form || !box) return;
  const kindButton = () => form.querySelector('button.last') || form.querySelector('button[name=kind]');
  box.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    if (box.value.trim() === '' && !document.getElementById('photo').files.length) return;
    form.requestSubmit(kindButton());
  });
  const camera = document.getElementById('camera');
  const video = document.getElementById('preview');
  if (typeof BarcodeDetector === 'undefined' || !navigator.mediaDevices || !camera) return;
  camera.hidden = false;
  let stream = null;
  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
  };
  camera.addEventListener('click', async () => {
    if (stream) return stop();
    const detector = new BarcodeDetector({ formats: ['qr_code', 'code_128'] });
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (err) {
      return;  // no camera, or refused: the photo input still works
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const look = async () => {
      if (!stream) return;
      const found = await detector.detect(video).catch(() => []);
      if (found.length) {
        box.value = found[0].rawValue;
        stop();
        box.focus();
        return;
      }
      setTimeout(look, 250);
    };
    look();
  });
})();
