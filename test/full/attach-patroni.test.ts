import { describeAttachedScenarios } from "../attach-scenarios.ts";
import { patroniServices } from "../patroni-services.ts";

describeAttachedScenarios("patroni", patroniServices);
