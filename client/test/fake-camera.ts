// A camera for the Door page in the browser tests: Chromium's fake capture device plays a Y4M
// file, and this writes one whose picture is what a phone held up to the scanner would show.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PNG } from "pngjs";

const WIDTH = 640;
const HEIGHT = 480;

/** A file the camera plays; put a picture in it with `showPicture` before the page starts the camera. */
export function fakeCameraFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tf-camera-")), "camera.y4m");
  writeFrame(file, () => 255); // a blank picture until a code is shown
  return file;
}

/** Chromium's flags for a camera that plays `file` and needs no permission prompt. */
export const fakeCameraFlags = (file: string) => [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  `--use-file-for-fake-video-capture=${file}`,
];

/**
 * Shows `png` (a screenshot, e.g. of a pass's QR code on the buyer's screen) in the middle of the
 * camera's picture on white, enlarged by a whole factor to fill it, as a phone held up to the door.
 */
export function showPicture(file: string, png: Buffer) {
  const image = PNG.sync.read(png);
  const scale = Math.max(1, Math.floor(Math.min(WIDTH / image.width, HEIGHT / image.height)));
  const left = Math.floor((WIDTH - image.width * scale) / 2);
  const top = Math.floor((HEIGHT - image.height * scale) / 2);
  writeFrame(file, (x, y) => {
    const col = Math.floor((x - left) / scale);
    const row = Math.floor((y - top) / scale);
    if (col < 0 || row < 0 || col >= image.width || row >= image.height) return 255;
    const i = (row * image.width + col) * 4;
    const alpha = image.data[i + 3] / 255;
    // Rec. 601 luma over white, where the picture is transparent
    const luma = 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
    return Math.round(luma * alpha + 255 * (1 - alpha));
  });
}

/** One 4:2:0 frame of a grey picture (`luma(x, y)`, 0 black to 255 white); the device loops it. */
function writeFrame(file: string, luma: (x: number, y: number) => number) {
  const y = Buffer.alloc(WIDTH * HEIGHT);
  for (let row = 0; row < HEIGHT; row++) for (let col = 0; col < WIDTH; col++) y[row * WIDTH + col] = luma(col, row);
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\nFRAME\n`);
  fs.writeFileSync(file, Buffer.concat([header, y, chroma]));
}
