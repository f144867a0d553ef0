import { embeddedServer } from '../interop/embedded-server.js';
import { interopSuite } from '../interop/suite.js';

interopSuite(embeddedServer);
