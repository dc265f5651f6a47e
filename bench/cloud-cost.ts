/**
 * What one million requests cost on the cloud path, from the benchmark's own measurements:
 * API Gateway (REST), the invoke Lambda (requests and GB-seconds at a measured duration), and
 * DynamoDB on-demand at the measured write and read units. List prices, us-east-1, as of
 * 2026-12-01: https://aws.amazon.com/api-gateway/pricing/, https://aws.amazon.com/lambda/pricing/,
 * https://aws.amazon.com/dynamodb/pricing/on-demand/. The model's own time (SageMaker) is left
 * out: it is the same with and without the gateway.
 */
export const PRICES = {
  asOf: "2026-12-01",
  region: "us-east-1",
  /** REST API requests, first 333 million a month. */
  apiGatewayPerMillion: 3.5,
  lambdaRequestsPerMillion: 0.2,
  /** arm64 (the platform's functions), per GB-second. */
  lambdaPerGbSecond: 0.0000133334,
  dynamodbWritePerMillionUnits: 0.625,
  dynamodbReadPerMillionUnits: 0.125,
} as const;

/** The invoke function's memory (infra/aws/platform-stack.ts). */
export const INVOKE_MEMORY_MB = 1024;
/** The llm function's memory (infra/aws/platform-stack.ts; why 512: bench/README.md, "the LLM function's memory"). */
export const LLM_MEMORY_MB = 512;

export interface PathCost {
  readonly apiGateway: number;
  readonly lambda: number;
  readonly dynamodb: number;
  readonly total: number;
}

/** Dollars per million requests, for `lambdaMs` of billed handler time and the units per request. */
export function costPerMillion(m: { readonly lambdaMs: number; readonly writeUnits: number; readonly readUnits: number }): PathCost {
  const apiGateway = PRICES.apiGatewayPerMillion;
  const gbSeconds = (INVOKE_MEMORY_MB / 1024) * (Math.max(1, Math.ceil(m.lambdaMs)) / 1000) * 1e6;
  const lambda = PRICES.lambdaRequestsPerMillion + gbSeconds * PRICES.lambdaPerGbSecond;
  const dynamodb = m.writeUnits * PRICES.dynamodbWritePerMillionUnits + m.readUnits * PRICES.dynamodbReadPerMillionUnits;
  return { apiGateway, lambda, dynamodb, total: apiGateway + lambda + dynamodb };
}

export interface StreamCost {
  readonly apiGateway: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly total: number;
}

/**
 * Dollars per million streamed generations of `seconds` each through the llm function: one REST
 * API request each (a stream under 10 MB, the first 10 MB of a streamed response carrying no
 * other charge in this model), the function billed for the whole stream at `memoryMb` (it waits
 * on the engine the whole time; its CPU is a small share of it), and no Lambda streaming
 * bytes charge (charged only past 6 MB a response). DynamoDB as in `costPerMillion`, left out
 * here: a streamed request writes one usage record like any other.
 */
export function streamCostPerMillion(m: { readonly seconds: number; readonly memoryMb?: number }): StreamCost {
  const memoryMb = m.memoryMb ?? LLM_MEMORY_MB;
  const apiGateway = PRICES.apiGatewayPerMillion;
  const lambdaRequests = PRICES.lambdaRequestsPerMillion;
  const lambdaDuration = (memoryMb / 1024) * m.seconds * 1e6 * PRICES.lambdaPerGbSecond;
  return { apiGateway, lambdaRequests, lambdaDuration, total: apiGateway + lambdaRequests + lambdaDuration };
}

/** The streamed-generation rows of the cost table: a stream of `seconds` at 256 MB, the stack's memory and 1,024 MB. */
export function streamCostLines(seconds: number): string[] {
  const usd = (n: number) => `$${n.toFixed(2)}`.padStart(9);
  return [
    `cloud cost per million streamed generations of ${seconds} s (the llm function billed for the whole stream; ${LLM_MEMORY_MB} MB is the stack's; DynamoDB as above, SageMaker left out):`,
    "  case                      API GW   Lambda    total",
    ...[256, LLM_MEMORY_MB, 1024].map((memoryMb) => {
      const c = streamCostPerMillion({ seconds, memoryMb });
      return `  ${seconds} s stream, llm ${String(memoryMb).padStart(4)} MB${usd(c.apiGateway)}${usd(c.lambdaRequests + c.lambdaDuration)}${usd(c.total)}`;
    }),
  ];
}
