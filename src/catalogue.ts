/**
 * Which stick key becomes which metric: the one table to edit when the stick grows a key (how a value is
 * read: docs/trucki-stick-api.md § Encodings); then the job's own families and the label names in use.
 */
import type { UnitSymbol } from './units.js';

export type Labels = Readonly<Record<string, string>>;

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
}

/** number: maybe in a string, maybe with a unit ("880.10 W"). state: a known vocabulary's word, as a state set.
 * flag: "(ENABLED) 1" as 1. text: an unknown vocabulary's word as a label, value 1. identity: the device name,
 * the `with` keys and the variant (its first four letters) as labels, value 1.
 */
export type CatalogueRow = { readonly key: string; readonly family: Family; readonly labels?: Labels } & (
  | { readonly read: 'number'; readonly unit: UnitSymbol }
  | { readonly read: 'state'; readonly label: string; readonly states: readonly string[] }
  | { readonly read: 'flag' }
  | { readonly read: 'text'; readonly label: string }
  | { readonly read: 'identity'; readonly label: string; readonly with: Labels }
);

const gauge = (name: string, help: string): Family => ({ name, help, type: 'gauge' });
const counter = (name: string, help: string): Family => ({ name, help, type: 'counter' });
const num = (key: string, unit: UnitSymbol, family: Family, labels?: Labels): CatalogueRow =>
  labels ? { key, read: 'number', unit, family, labels } : { key, read: 'number', unit, family };
const sun = (n: number): Labels => ({ inverter: `sun${n}` });
/** One family per quantity, the inverter (sun1 to sun3) as a label; null where the stick has no key. */
const perInverter = (unit: UnitSymbol, family: Family, ...keys: (string | null)[]): CatalogueRow[] =>
  keys.flatMap((key, index) => (key === null ? [] : [num(key, unit, family, sun(index + 1))]));
const flag = (key: string, family: Family): CatalogueRow => ({ key, read: 'flag', family });
const text = (key: string, label: string, family: Family): CatalogueRow => ({ key, read: 'text', label, family });
const state = (key: string, label: string, states: readonly string[], family: Family): CatalogueRow => {
  return { key, read: 'state', label, states, family };
};

/** The state sets' vocabularies, in the stick's words normalised (see stateLabel in parse.ts). */
// prettier-ignore
export const wifiStates = ['connected', 'disconnected', 'not_set', 'connecting', 'no_shield', 'idle_status',
  'connect_failed', 'no_ssid_avail', 'scan_completed', 'connection_lost'] as const;
export const signalQualities = ['bad', 'not_good', 'okay', 'fairly_good', 'very_good'] as const;
const runStates = ['on', 'off'] as const;
/** Added to every state set: the stick said something the vocabulary does not know. */
export const unknownState = 'unknown';

const acPower = gauge('trucki_ac_power_watts', 'AC output power of an inverter.');
const acSetpoint = gauge('trucki_ac_power_setpoint_watts', 'AC power setpoint the stick gives an inverter.');
const acLimit = gauge('trucki_ac_power_limit_watts', 'AC power limit of an inverter.');
const acMin = gauge('trucki_ac_power_min_watts', 'Minimum AC power of an inverter.');
const roundTrip = gauge(
  'trucki_inverter_round_trip_seconds',
  'Round-trip time of a packet from the stick to an inverter.',
);
const charger = (name: string, what: string) =>
  gauge(`trucki_charger_${name}`, `${what} reported by the charger (raw code).`);

// The tables keep one row per line, wider than the formatter would.
/** `/jsonlive`. The stick also sends most keys as MQTT_<KEY>_VALUE; parse.ts reads that only where <KEY> is absent. */
// prettier-ignore
const liveMain: readonly CatalogueRow[] = [
  num('VGRID', 'V', gauge('trucki_grid_voltage_volts', 'AC grid voltage measured by the inverter.')),
  num('VBAT', 'V', gauge('trucki_battery_voltage_volts', 'DC battery voltage.')),
  num('TEMP', '°C', gauge('trucki_inverter_temperature_celsius', 'Inverter temperature.')),
  ...perInverter('W', acPower, 'ACPOWER', 'ACPOWERSUN2', 'ACPOWERSUN3'),
  ...perInverter('W', acSetpoint, 'SETACPOWER', 'SUN2SETPOINT', 'SUN3SETPOINT'),
  ...perInverter('W', acLimit, 'POWERLIMIT', 'SUN2POWERLIMIT', 'SUN3POWERLIMIT'),
  ...perInverter('W', acMin, null, 'SUN2MINPOWER', 'SUN3MINPOWER'),
  ...perInverter('ms', roundTrip, null, 'SUN2ROUNDTRIP', 'SUN3ROUNDTRIP'),
  num('ZEPCPOWER', 'W', gauge('trucki_zero_export_power_watts', 'Output power computed by zero-export control.')),
  num('ZEPCTARGET', 'W', gauge('trucki_zero_export_target_watts', 'Zero-export target power at the meter.')),
  num('METERPOWER', 'W', gauge('trucki_meter_power_watts', 'Power at the household meter; negative means export.')),
  num('METERREADOUT', 'ms', gauge('trucki_meter_readout_seconds', 'Time the last meter read-out took.')),
  num('DAYENERGY', 'kWh', gauge('trucki_energy_today_joules', 'Energy fed in by the inverters since local midnight.')),
  num('TOTALENERGY', 'kWh', counter('trucki_energy_joules_total', 'Energy fed in by the inverters, lifetime total.')),
  num('METERDAYENERGY', 'kWh', gauge('trucki_meter_energy_today_joules', 'Energy drawn through the meter today.')),
  state('WIFI', 'state', wifiStates, gauge('trucki_wifi_state', 'WLAN connection state of the stick, as a state set.')),
  state('RSSI', 'quality', signalQualities, gauge('trucki_wifi_signal_quality', 'WLAN signal quality.')),
  // T2MG / T2HG: surplus charging through a Meanwell charger.
  num('DCPOWER', 'W', gauge('trucki_dc_power_watts', 'DC charging power.')),
  num('SETDCPOWER', 'W', gauge('trucki_dc_power_setpoint_watts', 'DC charging power setpoint.')),
  num('IOUT', 'A', gauge('trucki_battery_current_amperes', 'Battery charging current.')),
  num('IOUTSET', 'A', gauge('trucki_battery_current_setpoint_amperes', 'Battery charging current setpoint.')),
  num('VOUTSET', 'V', gauge('trucki_battery_voltage_setpoint_volts', 'Battery charging voltage setpoint.')),
  num('IOUTOFFLINE', 'A', gauge('trucki_battery_current_offline_amperes', 'Offline charging current.')),
  num('VOUTOFFLINE', 'V', gauge('trucki_battery_voltage_offline_volts', 'Offline charging voltage.')),
  num('MWEFFICIENCY', '%', gauge('trucki_charger_efficiency_ratio', 'Charger efficiency, 0 to 1.')),
  num('NEXTUPDATE', 's', gauge('trucki_control_next_update_seconds', 'Time to the next control update.')),
  num('FAULT', '', charger('fault_code', 'Fault code')),
  num('CHGSTATUS', '', charger('charge_status_code', 'Charge status code')),
  num('SYSSTATUS', '', charger('system_status_code', 'System status code')),
  num('SYSCONFIG', '', charger('system_config_code', 'System configuration code')),
  num('CURVECFG', '', charger('curve_config_code', 'Charge curve configuration code')),
  num('DAC', '', charger('dac_value', 'Output DAC value')),
  num('CALSTEP', '', charger('calibration_step', 'Calibration step')),
  text('MWPCSTATE', 'state', gauge('trucki_charger_control_state_info', 'Charger control state, in words.')),
];

/** Readings the stick sends only as an MQTT_…_VALUE mirror, with no plain key of their own. */
// prettier-ignore
const liveMirrorOnly: readonly CatalogueRow[] = [
  num('MQTT_MINPOWER_VALUE', 'W', acMin, sun(1)),
  num('MQTT_ACDISPLAY_VALUE', 'W', gauge('trucki_ac_display_power_watts', "AC power shown on the stick's display.")),
  flag('MQTT_ZEPC_VALUE', gauge('trucki_zero_export_control_enabled', 'Whether zero-export control is enabled (1).')),
  state('MQTT_STATE_VALUE', 'state', runStates, gauge('trucki_run_state', 'Run state of the control.')),
];

export const liveCatalogue: readonly CatalogueRow[] = [...liveMain, ...liveMirrorOnly];

const config = (name: string, help: string) => gauge(`trucki_config_${name}`, `Configured ${help}.`);

/** `/jsononce`. Secrets (ADMIN_PASS, WIFIPASS, BEARER, …) and METERURL, which may carry credentials, are
 * deliberately absent: only what is listed here is ever read.
 */
// prettier-ignore
export const onceCatalogue: readonly CatalogueRow[] = [
  {
    key: 'DEVICENAME', read: 'identity', label: 'device', with: { firmware: 'VERSION' },
    family: gauge('trucki_stick_info', 'Identity of the stick: device name, firmware and variant; value 1.'),
  },
  num('MINPOWER', 'W', config('min_power_watts', 'minimum AC power')),
  num('MAXPOWER', 'W', config('max_power_watts', 'maximum AC power')),
  num('NIGHT_MAXPOWER', 'W', config('night_max_power_watts', 'maximum AC power at night')),
  num('VBATCUTOFF', 'V', config('battery_cutoff_voltage_volts', 'battery voltage below which the inverter stops')),
  num('VBATREBOOT', 'V', config('battery_reboot_voltage_volts', 'battery voltage above which the inverter restarts')),
  num('VBATLOW', 'V', config('battery_low_voltage_volts', 'low battery voltage')),
  num('VBATNORMAL', 'V', config('battery_normal_voltage_volts', 'normal battery voltage')),
  num('VBATFULL', 'V', config('battery_full_voltage_volts', 'full battery voltage')),
  num('TARGETFULL', 'W', config('target_full_watts', 'zero-export target while the battery is full')),
  num('ZEPCTARGETMIN', 'W', config('zero_export_target_min_watts', 'lowest zero-export target')),
  num('ZEPCTARGETMAX', 'W', config('zero_export_target_max_watts', 'highest zero-export target')),
  num('ZEPCSTARTDELAY', 's', config('zero_export_start_delay_seconds', 'delay before zero-export control starts')),
  num('STANDBY', 's', config('standby_seconds', 'standby time')),
  num('MWINTERVAL', 's', config('charger_interval_seconds', 'interval between charger updates')),
  num('FULLDELAY', 'min', config('full_delay_seconds', 'delay after the battery is full')),
  num('METERINTERVAL', 'ms', config('meter_interval_seconds', 'interval between meter read-outs')),
  flag('ZEPCAVERAGE', config('zero_export_averaging_enabled', 'averaging of zero-export control, 1 when on')),
  flag('HADISCOVERY', config('home_assistant_discovery_enabled', 'Home Assistant MQTT discovery, 1 when on')),
  flag('MQTTREADONLY', config('mqtt_read_only_enabled', 'read-only MQTT, 1 when on')),
];

/** What the job itself knows about each read, beside the stick's values: not read from a key. */
export const jobFamilies = {
  up: gauge('trucki_up', '1 when the stick answered with usable JSON, 0 when it did not.'),
  scrapeDuration: gauge('trucki_scrape_duration_seconds', 'Time the job took to read the stick.'),
  lastSuccess: gauge('trucki_last_success_timestamp_seconds', 'Unix time of the last successful read of the stick.'),
} as const;

const allRows = [...liveCatalogue, ...onceCatalogue];

export const allFamilies: readonly Family[] = [
  ...new Set([...Object.values(jobFamilies), ...allRows.map((row) => row.family)]),
];

/** A Prometheus label name, unanchored: the text format's, a --grouping's and a targets file's. */
export const labelNameSource = '[a-zA-Z_][a-zA-Z0-9_]*';
export const labelName = new RegExp(`^${labelNameSource}$`);

/** Label names the job's samples carry (and job, instance): a grouping label of such a name would clash. */
export const reservedLabelNames: ReadonlySet<string> = new Set([
  'job',
  'instance',
  ...allRows.flatMap((row) => [
    ...Object.keys(row.labels ?? {}),
    ...('label' in row ? [row.label] : []),
    ...(row.read === 'identity' ? [...Object.keys(row.with), 'variant'] : []),
  ]),
]);
