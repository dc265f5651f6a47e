import { jest } from "@jest/globals";

// End-to-end tests wait on a JVM-backed platform shared by two workers on 2 cores.
jest.setTimeout(300_000);
