import { containerServer } from '../interop/container-server.js';
import { interopSuite } from '../interop/suite.js';

interopSuite(containerServer);
