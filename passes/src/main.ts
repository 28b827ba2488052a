import { runService } from "@ticketforge/common";
import { passes } from "./service";

void runService(passes);
