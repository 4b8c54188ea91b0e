/**
 * Paths of dropped footage. Inside Electron the preload resolves File objects to paths; a browser only gets
 * paths when the file manager also offers them as file:// URIs (most Linux file managers do).
 */
export function droppedPaths(transfer: DataTransfer): string[] {
  const bridge = window.dmlreview;
  if (bridge) {
    const paths = Array.from(transfer.files, (file) => bridge.pathForFile(file)).filter(Boolean);
    if (paths.length) return paths;
  }
  return transfer
    .getData('text/uri-list')
    .split(/\r?\n/)
    .filter((line) => line.startsWith('file://'))
    .map((uri) => decodeURIComponent(new URL(uri).pathname));
}
