import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ModelFailedError } from "../../functions/core/errors";
import { JsonLineDecoder, StreamMeter } from "../../functions/core/llm-stream";

const chunk = (content: string) =>
  JSON.stringify({ object: "chat.completion.chunk", model: "/opt/ml/model", choices: [{ index: 0, delta: { content } }] });
const usage = JSON.stringify({
  object: "chat.completion.chunk",
  choices: [],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
});

describe("JsonLineDecoder", () => {
  it("reassembles lines that SageMaker cut anywhere, UTF-8 characters included", () => {
    const lines = [chunk("Once"), chunk(" upon é"), chunk(" ✓ time"), usage];
    const bytes = new TextEncoder().encode(lines.map((l) => `data: ${l}\n\n`).join("") + "data: [DONE]\n\n");
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        const bounds = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const decoder = new JsonLineDecoder();
        const out: string[] = [];
        for (let i = 1; i < bounds.length; i++) out.push(...decoder.push(bytes.subarray(bounds[i - 1], bounds[i])));
        out.push(...decoder.end());
        expect(out).toEqual(lines);
      }),
    );
  });

  it("takes bare JSON lines too, and a last line without a newline", () => {
    const decoder = new JsonLineDecoder();
    expect(decoder.push(new TextEncoder().encode(`${chunk("a")}\n${chunk("b")}`))).toEqual([chunk("a")]);
    expect(decoder.end()).toEqual([chunk("b")]);
  });

  it("refuses a line that never ends instead of buffering it", () => {
    const decoder = new JsonLineDecoder();
    expect(() => decoder.push(new TextEncoder().encode("x".repeat(1_000_001)))).toThrow(ModelFailedError);
  });
});

describe("StreamMeter", () => {
  it("bills the engine's usage chunk and names the client's model in every chunk", () => {
    const meter = new StreamMeter("tinylm:staging");
    const first = meter.read(chunk("Once"));
    expect(JSON.parse(first.json).model).toBe("tinylm:staging");
    expect(first.isUsage).toBe(false);
    expect(meter.read(usage).isUsage).toBe(true);
    expect(meter.tokens()).toEqual({ input: 5, output: 3 });
  });

  it("counts the content chunks of a stream cut short: never zero for generated text", () => {
    const meter = new StreamMeter("tinylm");
    meter.read(chunk("a"));
    meter.read(chunk(""));
    meter.read(chunk("b"));
    expect(meter.tokens()).toEqual({ input: 0, output: 2 });
  });

  it("fails the stream on a chunk that is not JSON or that reports an error", () => {
    const meter = new StreamMeter("tinylm");
    expect(() => meter.read("{not json")).toThrow(ModelFailedError);
    expect(() => meter.read(JSON.stringify({ error: { message: "CUDA out of memory" } }))).toThrow(ModelFailedError);
  });

  it("relays a content chunk as the engine wrote it, only its model swapped, and parses usage and errors whole", () => {
    const meter = new StreamMeter("tinylm:prod");
    const engine = (content: string, extra = "") =>
      `{"id":"c1","object":"chat.completion.chunk","model":"/opt/ml/model","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]${extra}}`;
    meter.read(engine("first"));
    // Key order, spacing and numbers as the engine wrote them: the text is not rebuilt.
    const raw = engine('a "model":"/opt/ml/model" b', ',"usage":null,"n":1.50');
    const relayed = meter.read(raw);
    expect(relayed.json).toBe(raw.replace('"model":"/opt/ml/model"', '"model":"tinylm:prod"'));
    expect(JSON.parse(relayed.json).choices[0].delta.content).toBe('a "model":"/opt/ml/model" b');
    // An engine that changes its model name mid-stream still has it replaced.
    expect(JSON.parse(meter.read(engine("x").replace("/opt/ml/model", "other")).json).model).toBe("tinylm:prod");
    expect(meter.read(usage).isUsage).toBe(true);
    expect(meter.tokens()).toEqual({ input: 5, output: 3 });
    expect(() => meter.read(engine("x", ',"error":{"message":"boom"}'))).toThrow(ModelFailedError);
  });

  it("reads any stream of content chunks alike whether a chunk is parsed or relayed as text (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 8 }), (contents) => {
        const meter = new StreamMeter("m:alias");
        for (const content of contents) {
          const original = JSON.parse(chunk(content));
          expect(JSON.parse(meter.read(chunk(content)).json)).toEqual({ ...original, model: "m:alias" });
        }
        expect(meter.tokens()?.output ?? 0).toBe(contents.filter((c) => c !== "").length);
      }),
    );
  });
});
