import { runService } from "@ticketforge/common";
import { payments } from "./service";

void runService(payments);
