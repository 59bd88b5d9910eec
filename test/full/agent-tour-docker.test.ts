import { describeAgentTour } from "../agent-tour.ts";

describeAgentTour("docker");
