import { teeTestLogs } from './test-logs';

teeTestLogs();
