/**
 * What the simulator's sticks must land as on the Pushgateway with their clock stopped at 0, when
 * they serve the captured values. Written out by hand from the API doc, independently of the
 * catalogue, so that a wrong row in the catalogue shows up as a difference here.
 */
export interface Expected {
  readonly family: string;
  readonly labels?: Record<string, string>;
  readonly value: number;
}

const wifiConnected = [
  'connected',
  'disconnected',
  'not_set',
  'connecting',
  'no_shield',
  'idle_status',
  'connect_failed',
  'no_ssid_avail',
  'scan_completed',
  'connection_lost',
  'unknown',
].map((state) => ({ family: 'trucki_wifi_state', labels: { state }, value: state === 'connected' ? 1 : 0 }));
const quality = (current: string) =>
  ['bad', 'not_good', 'okay', 'fairly_good', 'very_good', 'unknown'].map((q) => ({
    family: 'trucki_wifi_signal_quality',
    labels: { quality: q },
    value: q === current ? 1 : 0,
  }));
const runOn = ['on', 'off', 'unknown'].map((state) => ({
  family: 'trucki_run_state',
  labels: { state },
  value: state === 'on' ? 1 : 0,
}));
const kWh = 3.6e6;

const common: Expected[] = [
  { family: 'trucki_up', value: 1 },
  { family: 'trucki_grid_voltage_volts', value: 234.2 },
  { family: 'trucki_battery_voltage_volts', value: 24.5 },
  { family: 'trucki_inverter_temperature_celsius', value: 57 },
  { family: 'trucki_meter_readout_seconds', value: 0.18 },
  { family: 'trucki_energy_today_joules', value: 0.4 * kWh },
  { family: 'trucki_energy_joules_total', value: 1234.5 * kWh },
  { family: 'trucki_meter_energy_today_joules', value: 2.1 * kWh },
  ...runOn,
  ...wifiConnected,
];

/** /jsononce: the same configuration on both variants. */
const configuration = (variant: string): Expected[] => [
  {
    family: 'trucki_stick_info',
    labels: { device: `${variant}A55A69`, firmware: '1.16 21.05.2026 09:56', variant },
    value: 1,
  },
  { family: 'trucki_config_min_power_watts', value: 50 },
  { family: 'trucki_config_max_power_watts', value: 1000 },
  { family: 'trucki_config_night_max_power_watts', value: 300 },
  { family: 'trucki_config_battery_cutoff_voltage_volts', value: 22.5 },
  { family: 'trucki_config_battery_reboot_voltage_volts', value: 24 },
  { family: 'trucki_config_battery_low_voltage_volts', value: 23.5 },
  { family: 'trucki_config_battery_normal_voltage_volts', value: 25.5 },
  { family: 'trucki_config_battery_full_voltage_volts', value: 27.6 },
  { family: 'trucki_config_target_full_watts', value: 400 },
  { family: 'trucki_config_zero_export_target_min_watts', value: -20 },
  { family: 'trucki_config_zero_export_target_max_watts', value: 50 },
  { family: 'trucki_config_zero_export_start_delay_seconds', value: 10 },
  { family: 'trucki_config_standby_seconds', value: 30 },
  { family: 'trucki_config_charger_interval_seconds', value: 5 },
  { family: 'trucki_config_full_delay_seconds', value: 15 * 60 },
  { family: 'trucki_config_meter_interval_seconds', value: 1 },
  { family: 'trucki_config_zero_export_averaging_enabled', value: 1 },
  { family: 'trucki_config_home_assistant_discovery_enabled', value: 0 },
  { family: 'trucki_config_mqtt_read_only_enabled', value: 1 },
];

export const expectedAtZero: Record<'T2SG' | 'T2MG', Expected[]> = {
  T2SG: [
    ...common,
    ...configuration('T2SG'),
    { family: 'trucki_ac_power_watts', labels: { inverter: 'sun1' }, value: 880.1 },
    { family: 'trucki_ac_power_watts', labels: { inverter: 'sun2' }, value: 412.55 },
    { family: 'trucki_ac_power_watts', labels: { inverter: 'sun3' }, value: 0 },
    { family: 'trucki_ac_power_setpoint_watts', labels: { inverter: 'sun1' }, value: 868 },
    { family: 'trucki_ac_power_setpoint_watts', labels: { inverter: 'sun2' }, value: 400 },
    { family: 'trucki_ac_power_setpoint_watts', labels: { inverter: 'sun3' }, value: 0 },
    { family: 'trucki_ac_power_limit_watts', labels: { inverter: 'sun1' }, value: 1000 },
    { family: 'trucki_ac_power_limit_watts', labels: { inverter: 'sun2' }, value: 800 },
    { family: 'trucki_ac_power_limit_watts', labels: { inverter: 'sun3' }, value: 600 },
    { family: 'trucki_ac_power_min_watts', labels: { inverter: 'sun1' }, value: 50 },
    { family: 'trucki_ac_power_min_watts', labels: { inverter: 'sun2' }, value: 30 },
    { family: 'trucki_ac_power_min_watts', labels: { inverter: 'sun3' }, value: 30 },
    { family: 'trucki_inverter_round_trip_seconds', labels: { inverter: 'sun2' }, value: 0.012 },
    { family: 'trucki_inverter_round_trip_seconds', labels: { inverter: 'sun3' }, value: 0.015 },
    { family: 'trucki_zero_export_power_watts', value: 868 },
    { family: 'trucki_zero_export_target_watts', value: 20 },
    { family: 'trucki_zero_export_control_enabled', value: 1 },
    { family: 'trucki_meter_power_watts', value: 21.95 },
    ...quality('fairly_good'),
  ],
  T2MG: [
    ...common,
    ...configuration('T2MG'),
    { family: 'trucki_ac_power_watts', labels: { inverter: 'sun1' }, value: 312 },
    { family: 'trucki_ac_display_power_watts', value: 312 },
    { family: 'trucki_meter_power_watts', value: -50.19 },
    { family: 'trucki_dc_power_watts', value: 350.5 },
    { family: 'trucki_dc_power_setpoint_watts', value: 360 },
    { family: 'trucki_battery_current_amperes', value: 12.47 },
    { family: 'trucki_battery_current_setpoint_amperes', value: 13 },
    { family: 'trucki_battery_voltage_setpoint_volts', value: 28.8 },
    { family: 'trucki_battery_current_offline_amperes', value: 5 },
    { family: 'trucki_battery_voltage_offline_volts', value: 27.6 },
    { family: 'trucki_charger_efficiency_ratio', value: 0.95 },
    { family: 'trucki_control_next_update_seconds', value: 5 },
    { family: 'trucki_charger_fault_code', value: 0 },
    { family: 'trucki_charger_charge_status_code', value: 1 },
    { family: 'trucki_charger_system_status_code', value: 0 },
    { family: 'trucki_charger_system_config_code', value: 512 },
    { family: 'trucki_charger_curve_config_code', value: 0 },
    { family: 'trucki_charger_dac_value', value: 1234 },
    { family: 'trucki_charger_calibration_step', value: 0 },
    { family: 'trucki_charger_control_state_info', labels: { state: 'charging' }, value: 1 },
    ...quality('very_good'),
  ],
};
