import type { ReactNode } from 'react';

/** A slider with its value printed beside it. */
export function RangeField(props: {
  label?: ReactNode;
  title?: string;
  className?: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** The value as shown beside the slider. */
  display: string;
  onChange: (value: number) => void;
  testId?: string;
}) {
  return (
    <label className={props.className} title={props.title}>
      {props.label}
      <input
        type="range"
        min={props.min}
        max={props.max}
        step={props.step}
        value={props.value}
        onChange={(event) => props.onChange(Number(event.target.value))}
        data-testid={props.testId}
      />
      <span className="num">{props.display}</span>
    </label>
  );
}
