import { runService } from "@ticketforge/common";
import { expiration } from "./service";

void runService(expiration);
