/**
 * What a stick says, as a pure function of the variant and the time since it booted: real captures at t = 0,
 * then drifting, encodings mixed as the real firmware mixes them.
 */
export type Variant = 'T2SG' | 'T2MG';

// Zero at t = 0, so that a simulator with a stopped clock serves exactly the captured values.
const wave = (t: number, period: number, amplitude: number) => amplitude * Math.sin((2 * Math.PI * t) / period);
const watts = (value: number, space = true) => `${value.toFixed(2)}${space ? ' ' : ''}W`;
const fixed = (value: number, digits: number) => Number(value.toFixed(digits));

function common(t: number) {
  const vgrid = fixed(234.2 + wave(t, 300, 2.5), 1);
  return {
    VGRID: vgrid,
    MQTT_VGRID_VALUE: vgrid,
    VBAT: fixed(24.5 + wave(t, 900, 0.4), 1),
    TEMP: Math.round(57 + wave(t, 600, 3)),
    DAYENERGY: fixed(0.4 + t * 0.0002, 3),
    TOTALENERGY: fixed(1234.5 + t * 0.0002, 3),
    METERDAYENERGY: fixed(2.1 + t * 0.0001, 3),
    METERREADOUT: Math.round(180 + wave(t, 60, 20)),
    MQTT_STATE_VALUE: 'ON',
    UPTIME: `${Math.floor(t)}`,
    LOCALIP: '192.0.2.59',
    BSSID: '02:00:00:00:00:01',
    ACSETPOINTOVR: '',
  };
}

export function livePayload(variant: Variant, t: number): Record<string, unknown> {
  if (variant === 'T2SG') {
    const ac = 880.1 + wave(t, 120, 120);
    return {
      ...common(t),
      ACPOWER: watts(ac),
      MQTT_ACPOWER_VALUE: watts(ac),
      ACPOWERSUN2: watts(412.55 + wave(t, 120, 60), false),
      ACPOWERSUN3: watts(0),
      SETACPOWER: Math.round(868 + wave(t, 120, 120)),
      SUN2SETPOINT: `${Math.round(400 + wave(t, 120, 60))}`,
      SUN3SETPOINT: 0,
      POWERLIMIT: 1000,
      SUN2POWERLIMIT: '800',
      SUN3POWERLIMIT: 600,
      MQTT_MINPOWER_VALUE: '50',
      SUN2MINPOWER: 30,
      SUN3MINPOWER: '30',
      SUN2ROUNDTRIP: `${Math.round(12 + wave(t, 30, 3))} ms`,
      SUN3ROUNDTRIP: `${Math.round(15 + wave(t, 30, 3))}ms`,
      ZEPCPOWER: watts(868 + wave(t, 120, 120)),
      ZEPCTARGET: 20,
      MQTT_ZEPC_VALUE: '(ENABLED) 1',
      METERPOWER: watts(21.95 + wave(t, 45, 40)),
      WIFI: 'CONNECTED',
      RSSI: 'Fairly good',
    };
  }
  return {
    ...common(t),
    ACPOWER: watts(312 + wave(t, 120, 40)),
    MQTT_ACDISPLAY_VALUE: `${Math.round(312 + wave(t, 120, 40))} W`,
    METERPOWER: watts(-50.19 + wave(t, 45, 30)),
    DCPOWER: fixed(350.5 + wave(t, 120, 40), 1),
    SETDCPOWER: '360',
    IOUT: fixed(12.47 + wave(t, 120, 1.5), 2),
    IOUTSET: '13.00',
    VOUTSET: 28.8,
    IOUTOFFLINE: 5,
    VOUTOFFLINE: '27.6',
    MWEFFICIENCY: 95,
    NEXTUPDATE: `${Math.max(0, 5 - Math.floor(t % 6))} s`,
    FAULT: ' 0',
    CHGSTATUS: ' 1',
    SYSSTATUS: '  0',
    SYSCONFIG: ' 512',
    CURVECFG: ' 0',
    DAC: 1234,
    CALSTEP: 0,
    MWPCSTATE: 'CHARGING',
    WIFI: 'WIFI CONNECTED',
    RSSI: 'Very good',
  };
}

/** Identity, configuration and the secrets a real stick serves on /jsononce. */
export function oncePayload(variant: Variant): Record<string, unknown> {
  return {
    DEVICENAME: `${variant}A55A69`,
    VERSION: '1.16 21.05.2026 09:56',
    MINPOWER: 50,
    MAXPOWER: '1000',
    NIGHT_MAXPOWER: 300,
    VBATCUTOFF: 22.5,
    VBATREBOOT: '24.0',
    VBATLOW: 23.5,
    VBATNORMAL: 25.5,
    VBATFULL: 27.6,
    TARGETFULL: 400,
    ZEPCTARGETMIN: -20,
    ZEPCTARGETMAX: 50,
    ZEPCSTARTDELAY: 10,
    STANDBY: 30,
    MWINTERVAL: 5,
    FULLDELAY: 15,
    METERINTERVAL: 1000,
    METERURL: 'http://192.0.2.10/status',
    ZEPCAVERAGE: 'ON',
    HADISCOVERY: 'OFF',
    MQTTREADONLY: 'ON',
    ADMIN_PASS: 'sim-admin-secret-1',
    WIFIPASS: 'sim-wifi-secret-2',
    MQTT_PASS: 'sim-mqtt-secret-3',
    METER_PASS: 'sim-meter-secret-4',
    BEARER: 'sim-bearer-secret-5',
    SHELLY_PASS: 'sim-other-secret-6',
  };
}
