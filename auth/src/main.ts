import { runService } from "@ticketforge/common";
import { auth } from "./service";

void runService(auth);
