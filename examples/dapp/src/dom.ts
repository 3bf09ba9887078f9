// A few DOM helpers: the page builds its elements with `h` rather than a framework, so what it renders is
// plain to read and there is nothing to learn before copying a section.
import { formatUnits } from 'viem';

type Child = Node | string | number | bigint | null | undefined | false;
type Attr = string | number | bigint | boolean | ((event: Event) => void) | undefined;

/** An element with attributes (`testid` sets `data-testid`, `on*` functions listen) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'testid') el.dataset.testid = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children.flat());
  return el;
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children.flat());
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** The element with `data-testid` = `id` (the page's stable handles, also used by the end-to-end test). */
export function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no element data-testid=${id}`);
  return el;
}

/** A token amount in decimal units, at most `digits` fraction digits (cut, not rounded: never more than held). */
export function units(value: bigint, decimals: number, digits = 6): string {
  const text = formatUnits(value, decimals);
  const [whole, fraction] = text.split('.');
  if (!fraction) return whole;
  const cut = fraction.slice(0, digits).replace(/0+$/, '');
  return cut ? `${whole}.${cut}` : whole;
}

/** Long hex cut to its ends, with its byte length. */
export function shortHex(hex: string, keep = 10): string {
  if (hex.length <= 2 * keep + 4) return hex;
  return `${hex.slice(0, keep + 2)}…${hex.slice(-keep)} (${(hex.length - 2) / 2} bytes)`;
}

/** An error as text, for messages shown on the page. */
export function message(err: unknown): string {
  if (err && typeof err === 'object' && 'shortMessage' in err && typeof err.shortMessage === 'string') {
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs `action` with `button` disabled, so a transaction is not sent twice by a double click. */
export async function busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await action();
  } finally {
    button.disabled = false;
  }
}
