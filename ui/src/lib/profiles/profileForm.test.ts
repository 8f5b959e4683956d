import { describe, expect, it } from 'vitest';

import { profileEntry } from '../../test/fixtures';
import {
  draftFromProfile,
  emptyDraft,
  inputOfField,
  reasonFor,
  nextNode,
  nodePlaceholder,
  passwordToSend,
  profileFromDraft,
  validateDraft,
} from './profileForm';

function filledDraft() {
  const d = emptyDraft();
  d.name = 'local';
  d.nodes = [{ amqp: 'amqp://127.0.0.1:5672', management: 'http://127.0.0.1:15672' }];
  d.username = 'guest';
  d.password = 'guest';
  return d;
}

describe('drafts', () => {
  it('start with one empty node, vhost "/" and peer verification on', () => {
    const d = emptyDraft();
    expect(d.nodes).toEqual([{ amqp: '', management: '' }]);
    expect(d.vhost).toBe('/');
    expect(d.verifyPeer).toBe(true);
    expect(d.password).toBe('');
  });

  it('round-trip a saved profile', () => {
    const { profile } = profileEntry('prod');
    expect(profileFromDraft(draftFromProfile(profile))).toEqual(profile);
  });

  it('trim text fields and turn empty TLS paths into null', () => {
    const d = filledDraft();
    d.name = '  prod ';
    d.nodes = [{ amqp: ' amqps://h:5671 ', management: 'https://h:15671 ' }];
    d.caFile = '  /etc/ca.pem ';
    d.clientCertFile = '   ';
    d.verifyPeer = false;
    const p = profileFromDraft(d);
    expect(p.name).toBe('prod');
    expect(p.nodes).toEqual([{ amqp: 'amqps://h:5671', management: 'https://h:15671' }]);
    expect(p.tls).toEqual({ ca_file: '/etc/ca.pem', client_cert_file: null, client_key_file: null, verify_peer: false });
    expect(p.vhost).toBe('/');
  });

  it('keep an EXTERNAL login through an edit, and need a certificate and no password for it', () => {
    const { profile } = profileEntry('cert');
    const external = {
      ...profile,
      tls: { ...profile.tls, client_cert_file: '/c.pem', client_key_file: '/c.key' },
      auth: 'external' as const,
    };
    const d = draftFromProfile(external);
    expect(d.external).toBe(true);
    expect(profileFromDraft(d)).toEqual(external);
    expect(validateDraft({ ...d, password: '' }, true)).toEqual({});
    d.clientCertFile = '';
    d.clientKeyFile = '';
    expect(validateDraft(d, true)['tls-cert']).toContain('needs a client certificate');
  });

  it('send no password when none was typed, to keep the stored one', () => {
    const d = filledDraft();
    expect(passwordToSend(d)).toBe('guest');
    d.password = '';
    expect(passwordToSend(d)).toBeNull();
  });
});

describe('nextNode', () => {
  it("takes the last row's host and the next ports", () => {
    expect(nextNode([{ amqp: 'amqp://10.1.2.3:5672', management: 'http://10.1.2.3:15672' }])).toEqual({
      amqp: 'amqp://10.1.2.3:5673',
      management: 'http://10.1.2.3:15673',
    });
  });

  it('keeps TLS schemes and their default ports', () => {
    expect(nextNode([{ amqp: 'amqps://mq.example', management: 'https://mq.example' }])).toEqual({
      amqp: 'amqps://mq.example:5672',
      management: 'https://mq.example:15672',
    });
  });

  it('falls back to the local default ports after as many rows', () => {
    expect(nextNode([{ amqp: '', management: '' }])).toEqual({
      amqp: 'amqp://127.0.0.1:5673',
      management: 'http://127.0.0.1:15673',
    });
    expect(nextNode([])).toEqual(nodePlaceholder(0));
    expect(nodePlaceholder(2)).toEqual({ amqp: 'amqp://127.0.0.1:5674', management: 'http://127.0.0.1:15674' });
  });

  it('handles IPv6 hosts', () => {
    expect(nextNode([{ amqp: 'amqp://[::1]:5672', management: 'http://[::1]:15672' }])).toEqual({
      amqp: 'amqp://[::1]:5673',
      management: 'http://[::1]:15673',
    });
  });
});

describe('validateDraft', () => {
  it('accepts a complete form', () => {
    expect(validateDraft(filledDraft(), true)).toEqual({});
  });

  it('flags every empty required field by its input name', () => {
    const d = emptyDraft();
    d.vhost = '';
    expect(Object.keys(validateDraft(d, true)).sort()).toEqual(
      ['amqp-0', 'management-0', 'name', 'password', 'username', 'vhost'].sort(),
    );
  });

  it('requires a password only when none is stored', () => {
    const d = filledDraft();
    d.password = '';
    expect(validateDraft(d, true)).toHaveProperty('password');
    expect(validateDraft(d, false)).toEqual({});
  });

  it('checks URL schemes per row', () => {
    const d = filledDraft();
    d.nodes.push({ amqp: 'http://h:5672', management: 'amqp://h:15672' });
    const errors = validateDraft(d, false);
    expect(Object.keys(errors).sort()).toEqual(['amqp-1', 'management-1']);
    expect(errors['amqp-1']).toMatch(/amqp:\/\//);
  });

  it('wants a client certificate and key together', () => {
    const d = filledDraft();
    d.clientCertFile = '/c.pem';
    expect(validateDraft(d, false)).toHaveProperty('tls-key');
    d.clientCertFile = '';
    d.clientKeyFile = '/k.pem';
    expect(validateDraft(d, false)).toHaveProperty('tls-cert');
  });
});

describe('inputOfField', () => {
  it('maps the backend field names to inputs', () => {
    expect(inputOfField('name')).toBe('name');
    expect(inputOfField('username')).toBe('username');
    expect(inputOfField('password')).toBe('password');
    expect(inputOfField('vhost')).toBe('vhost');
    expect(inputOfField('nodes')).toBe('amqp-0');
    expect(inputOfField('tls')).toBe('tls-cert');
  });

  it('maps per-node fields, 1-based in the field, 0-based in the inputs', () => {
    expect(inputOfField('node 2 AMQP URI')).toBe('amqp-1');
    expect(inputOfField('node 1 management URL')).toBe('management-0');
    expect(inputOfField('node 3')).toBe('amqp-2');
  });

  it('returns null for anything else', () => {
    expect(inputOfField('management path')).toBeNull();
    expect(inputOfField('')).toBeNull();
  });
});

describe('reasonFor', () => {
  it('drops the field the core names first, and only that', () => {
    expect(reasonFor('vhost', 'invalid vhost: use "/" for the default vhost')).toBe('use "/" for the default vhost');
    expect(reasonFor('vhost', 'invalid name: taken')).toBe('invalid name: taken');
  });
});
