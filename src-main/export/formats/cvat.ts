/**
 * CVAT for images 1.1: annotations.xml beside images/, one <image> per flagged frame (named as the file in
 * images/, which is what a CVAT task made from those files calls it), each scoring unknown region one
 * <polygon> of label "unknown" at the source resolution, the frame's flags and the region's score as
 * attributes.
 */
import { text as escapeMarkup } from '../report.js';
import { cellEdges, traceOutline } from './contour.js';
import { flagAttributes } from './coco.js';
import type { FlaggedFrame } from './frame-data.js';
import type { FormatContext, FormatWriter } from './index.js';

const ATTRIBUTES = ['flag_category', 'note', 'score'] as const;

/** User text in XML: escaped, and without the control characters XML 1.0 cannot hold at all. */
function escapeXml(value: string): string {
  // eslint-disable-next-line no-control-regex -- these are exactly the characters to drop
  return escapeMarkup(value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));
}

/** The outline of each region of the frame (FlaggedFrame.regions), as CVAT's "x1,y1;x2,y2;..." at the source resolution. */
export function regionPolygons(frame: FlaggedFrame): string[] {
  const { width, height } = frame.classMap;
  const xEdges = cellEdges(frame.width, width);
  const yEdges = cellEdges(frame.height, height);
  return frame.regions.map(({ label }) =>
    traceOutline(frame.regionLabels, label, width, height)
      .map(([x, y]) => `${xEdges[x]!.toFixed(2)},${yEdges[y]!.toFixed(2)}`)
      .join(';'),
  );
}

export function cvatWriter({ session, analysis, createdAt }: FormatContext): FormatWriter {
  const images: string[] = [];
  return {
    index: 'annotations.xml',
    async writeFrame(put, frame) {
      const file = `images/${frame.stem}.png`;
      await put(file, frame.original);
      const { flag_category, note } = flagAttributes(frame.flags);
      const polygons = regionPolygons(frame).map((points, i) => {
        const values = { flag_category, note, score: String(frame.regions[i]!.region.score) };
        const attributes = ATTRIBUTES.map(
          (name) => `\n      <attribute name="${name}">${escapeXml(values[name])}</attribute>`,
        ).join('');
        return `\n    <polygon label="unknown" source="auto" occluded="0" points="${points}" z_order="0">${attributes}\n    </polygon>`;
      });
      images.push(
        `  <image id="${images.length}" name="${escapeXml(`${frame.stem}.png`)}" width="${frame.width}" height="${frame.height}">${polygons.join('')}\n  </image>`,
      );
      return { frame: file };
    },
    async finish(put) {
      const attributes = ATTRIBUTES.map(
        (name) =>
          `\n            <attribute><name>${name}</name><mutable>False</mutable><input_type>text</input_type><default_value></default_value><values></values></attribute>`,
      ).join('');
      const xml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <name>${escapeXml(`${session.name} (analysis ${analysis.id})`)}</name>
      <size>${images.length}</size>
      <mode>annotation</mode>
      <overlap>0</overlap>
      <created>${createdAt}</created>
      <labels>
        <label>
          <name>unknown</name>
          <color>#ff2828</color>
          <type>polygon</type>
          <attributes>${attributes}
          </attributes>
        </label>
      </labels>
    </task>
    <dumped>${createdAt}</dumped>
  </meta>
${images.join('\n')}
</annotations>
`;
      await put('annotations.xml', xml);
    },
  };
}
