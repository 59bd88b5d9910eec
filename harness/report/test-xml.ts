/**
 * A deliberately small, strict XML parser for the tests: enough of XML 1.0 (declaration, elements,
 * attributes, text, the five entities and character references, comments, CDATA) to prove that
 * junit.xml is well-formed and to read it back, without adding an XML dependency.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside this element, entities decoded. */
  text: string;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(raw: string, at: number): string {
  return raw.replace(/&([^;\s&]*);?/g, (match, body: string) => {
    if (!match.endsWith(";")) throw new Error(`bare & at ${at}`);
    if (Object.hasOwn(ENTITIES, body)) return ENTITIES[body] ?? "";
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body);
    if (!num) throw new Error(`unknown entity &${body}; at ${at}`);
    return String.fromCodePoint(num[1] ? Number.parseInt(num[1], 16) : Number(num[2]));
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const skipSpace = () => {
    while (i < xml.length && /\s/.test(xml[i] ?? "")) i++;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (xml.startsWith("<!--", i)) {
        const end = xml.indexOf("-->", i);
        if (end < 0) fail("unclosed comment");
        i = end + 3;
      } else if (xml.startsWith("<?", i)) {
        const end = xml.indexOf("?>", i);
        if (end < 0) fail("unclosed processing instruction");
        i = end + 2;
      } else return;
    }
  };
  const name = (): string => {
    const m = NAME.exec(xml.slice(i));
    if (!m) return fail("expected a name");
    i += m[0].length;
    return m[0];
  };
  const element = (): XmlElement => {
    if (xml[i] !== "<") fail("expected <");
    i++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: "" };
    for (;;) {
      skipSpace();
      if (xml.startsWith("/>", i)) {
        i += 2;
        return el;
      }
      if (xml[i] === ">") {
        i++;
        break;
      }
      const key = name();
      skipSpace();
      if (xml[i] !== "=") fail("expected =");
      i++;
      skipSpace();
      const quote = xml[i];
      if (quote !== '"' && quote !== "'") return fail("expected a quoted value");
      const end = xml.indexOf(quote, i + 1);
      if (end < 0) fail("unclosed attribute");
      const raw = xml.slice(i + 1, end);
      if (raw.includes("<")) fail("< in attribute");
      if (Object.hasOwn(el.attrs, key)) fail(`duplicate attribute ${key}`);
      el.attrs[key] = decode(raw, i);
      i = end + 1;
    }
    for (;;) {
      if (i >= xml.length) fail(`unclosed <${el.name}>`);
      if (xml.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (xml[i] !== ">") fail("expected >");
        i++;
        return el;
      }
      if (xml.startsWith("<![CDATA[", i)) {
        const end = xml.indexOf("]]>", i);
        if (end < 0) fail("unclosed CDATA");
        el.text += xml.slice(i + 9, end);
        i = end + 3;
      } else if (xml.startsWith("<!--", i) || xml.startsWith("<?", i)) {
        skipMisc();
      } else if (xml[i] === "<") {
        el.children.push(element());
      } else {
        const end = xml.indexOf("<", i);
        const raw = xml.slice(i, end < 0 ? xml.length : end);
        if (raw.includes("]]>")) fail("]]> in text");
        el.text += decode(raw, i);
        i += raw.length;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== xml.length) fail("content after the root element");
  return root;
}

/** Every element named `name` in document order. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (el: XmlElement) => {
    if (el.name === name) out.push(el);
    for (const child of el.children) walk(child);
  };
  walk(root);
  return out;
}
