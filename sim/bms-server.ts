/**
 * A small simulated building-management (BMS) OPC UA server for tests and demos: two air handling
 * units, a chiller and a pump, as plain variables in the server's own namespace (ns=1).
 *
 * Security mode None only (messages neither signed nor encrypted), anonymous unless `users` is
 * given: it is meant for loopback and throw-away demo networks. Its PKI (server and user
 * certificate stores) lives under `pkiDir`, never in the home directory node-opcua defaults to.
 */
import path from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCode,
  StatusCodes,
  type UAVariable,
  Variant,
} from 'node-opcua';

export interface BmsPoint {
  /** `<Device>.<Variable>`, also the string part of the NodeId. */
  name: string;
  nodeId: string;
  assetId: string;
  metric: string;
  unit?: string;
  dataType: 'Double' | 'Boolean';
  initial: number | boolean;
}

const point = (
  device: string,
  variable: string,
  assetId: string,
  metric: string,
  initial: number | boolean,
  unit?: string,
): BmsPoint => ({
  name: `${device}.${variable}`,
  nodeId: `ns=1;s=${device}.${variable}`,
  assetId,
  metric,
  dataType: typeof initial === 'boolean' ? 'Boolean' : 'Double',
  initial,
  ...(unit ? { unit } : {}),
});

const airHandler = (n: 1 | 2): BmsPoint[] => [
  point(`AHU${n}`, 'SupplyAirTemperature', `ahu-${n}`, 'supply_air_temperature_c', 16 + n / 2, '°C'),
  point(`AHU${n}`, 'ReturnAirTemperature', `ahu-${n}`, 'return_air_temperature_c', 23 + n / 2, '°C'),
  point(`AHU${n}`, 'SupplyAirSetpoint', `ahu-${n}`, 'setpoint_c', 16, '°C'),
  point(`AHU${n}`, 'FanRunning', `ahu-${n}`, 'fan_running', true),
  point(`AHU${n}`, 'FilterAlarm', `ahu-${n}`, 'filter_alarm', false),
];

/** Every variable the simulator serves, with the asset and metric xiaoer maps it to. */
export const BMS_POINTS: readonly BmsPoint[] = [
  ...airHandler(1),
  ...airHandler(2),
  point(
    'Chiller1',
    'ChilledWaterSupplyTemperature',
    'chiller-1',
    'chilled_water_supply_temperature_c',
    7,
    '°C',
  ),
  point('Pump1', 'Running', 'pump-1', 'pump_running', true),
  point('Pump1', 'Pressure', 'pump-1', 'pressure_kpa', 250, 'kPa'),
];

export const BMS_RESOURCE_PATH = '/UA/xiaoer-bms';

export interface SimulatedBmsOptions {
  port: number;
  host?: string;
  /** Certificate stores go to `<pkiDir>/server` and `<pkiDir>/user`. */
  pkiDir: string;
  /** user name → password; when given, anonymous sessions are refused. */
  users?: Readonly<Record<string, string>>;
}

export interface SimulatedBms {
  endpointUrl: string;
  port: number;
  /** Sets a point's value with status Good and the current time as source timestamp. */
  setValue(name: string, value: number | boolean): void;
  /** Keeps the value but marks it, e.g. `BadSensorFailure` or `UncertainLastUsableValue`. */
  setBad(name: string, statusCodeName: string): void;
  value(name: string): number | boolean;
  stop(): Promise<void>;
}

export async function startSimulatedBms(opts: SimulatedBmsOptions): Promise<SimulatedBms> {
  const host = opts.host ?? '127.0.0.1';
  const store = (name: string) =>
    new OPCUACertificateManager({
      rootFolder: path.join(opts.pkiDir, name),
      automaticallyAcceptUnknownCertificate: true,
      disableFileWatchers: true,
    });
  const users = opts.users;
  const server = new OPCUAServer({
    port: opts.port,
    host,
    // The advertised endpoint URL; the default (the machine's FQDN) would need DNS.
    hostname: host,
    resourcePath: BMS_RESOURCE_PATH,
    buildInfo: { productName: 'xiaoer simulated BMS', manufacturerName: 'xiaoer' },
    serverInfo: { applicationUri: 'urn:xiaoer:simulated-bms', productUri: 'urn:xiaoer:simulated-bms' },
    securityModes: [MessageSecurityMode.None],
    // Basic256Sha256 only adds a user-name token policy to the None endpoint: the client encrypts
    // the password with the server's certificate (OPC UA Part 4, UserNameIdentityToken), so it does
    // not cross the wire in clear text even though messages are neither signed nor encrypted.
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    allowAnonymous: !users,
    ...(users
      ? { userManager: { isValidUser: (user: string, password: string) => users[user] === password } }
      : {}),
    serverCertificateManager: store('server'),
    userCertificateManager: store('user'),
  });
  await server.initialize();
  const variables = addPoints(server);
  await server.start();

  const variable = (name: string): UAVariable => {
    const v = variables.get(name);
    if (!v) throw new Error(`unknown BMS point "${name}" (known: ${[...variables.keys()].join(', ')})`);
    return v;
  };
  const values = new Map(BMS_POINTS.map((p) => [p.name, p.initial]));
  const variantOf = (value: number | boolean) =>
    new Variant({ dataType: typeof value === 'boolean' ? DataType.Boolean : DataType.Double, value });

  return {
    endpointUrl: `opc.tcp://${host}:${opts.port}${BMS_RESOURCE_PATH}`,
    port: opts.port,
    setValue(name, value) {
      variable(name).setValueFromSource(variantOf(value), StatusCodes.Good, new Date());
      values.set(name, value);
    },
    setBad(name, statusCodeName) {
      const code = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[statusCodeName];
      if (!(code instanceof StatusCode)) throw new Error(`unknown status code "${statusCodeName}"`);
      const current = values.get(name) ?? false;
      variable(name).setValueFromSource(variantOf(current), code, new Date());
    },
    value: (name) => {
      variable(name);
      return values.get(name) as number | boolean;
    },
    stop: () => server.shutdown(0),
  };
}

function addPoints(server: OPCUAServer): Map<string, UAVariable> {
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('OPC UA server has no address space after initialize()');
  const namespace = addressSpace.getOwnNamespace();
  const devices = new Map<string, ReturnType<typeof namespace.addObject>>();
  const variables = new Map<string, UAVariable>();
  for (const p of BMS_POINTS) {
    const [device = '', browseName = ''] = p.name.split('.');
    let folder = devices.get(device);
    if (!folder) {
      folder = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: device });
      devices.set(device, folder);
    }
    const dataType = p.dataType === 'Boolean' ? DataType.Boolean : DataType.Double;
    const variable = namespace.addVariable({
      componentOf: folder,
      browseName,
      nodeId: `s=${p.name}`,
      dataType: p.dataType,
      minimumSamplingInterval: 0,
      value: new Variant({ dataType, value: p.initial }),
    });
    variables.set(p.name, variable);
  }
  return variables;
}
