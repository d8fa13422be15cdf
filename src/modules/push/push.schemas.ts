import { z } from '@hono/zod-openapi';
import { PUSH_POLICIES } from '../../db/schema';
import { NOTIFICATION_TYPES } from '../notifications/notifications.schemas';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const key = (what: string) => z.string().max(200).regex(BASE64URL, `must be ${what}, base64url`);

/** `{ <notification type>: bool }`: every type Kith sends may be named; omitted ones are on. */
export const AlertsSchema = z
  .strictObject(Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, z.boolean().optional()])) as Record<(typeof NOTIFICATION_TYPES)[number], z.ZodOptional<z.ZodBoolean>>)
  .openapi('PushAlerts', { description: 'One switch per notification type (the closed list of `Notification`); a type left out is on.', example: { new_message: true, post_like: false } });

const AlertsOutSchema = z
  .object(Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, z.boolean()])) as Record<(typeof NOTIFICATION_TYPES)[number], z.ZodBoolean>)
  .openapi('PushAlertsState', { description: 'Every notification type, on or off.' });

export const PushDataSchema = z
  .strictObject({
    alerts: AlertsSchema.optional(),
    policy: z
      .enum(PUSH_POLICIES, { error: 'must be all, followed, friends or none' })
      .optional()
      .openapi({ description: 'Whose notifications push: `all`; `followed` (people you follow, and friends); `friends`; `none`. Notices from the site itself (moderation) push under every policy but `none`.' }),
  })
  .openapi('PushData');

export const CreatePushSubscriptionSchema = z
  .strictObject({
    subscription: z.strictObject({
      endpoint: z.string().max(2048, 'must be at most 2048 characters').openapi({
        description:
          "The push service URL from the browser's PushSubscription: `https` on port 443, naming a host that is not (and does not resolve to) a private, link-local or loopback address; no IP addresses, no credentials. Plain `http`, loopback and other ports only when the server sets PUSH_ALLOW_HTTP=true (local development).",
      }),
      keys: z.strictObject({
        p256dh: key('the 65-byte uncompressed P-256 public key').openapi({ description: 'The subscription\'s P-256 public key (uncompressed point), base64url.' }),
        auth: key('the 16-byte auth secret').openapi({ description: 'The 16-byte authentication secret, base64url.' }),
      }),
    }),
    data: PushDataSchema.optional(),
  })
  .openapi('CreatePushSubscription', {
    example: {
      subscription: {
        endpoint: 'https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bH',
        keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' },
      },
      data: { alerts: { post_like: false }, policy: 'all' },
    },
  });

export const UpdatePushSubscriptionSchema = z
  .strictObject({ data: PushDataSchema })
  .openapi('UpdatePushSubscription', { example: { data: { alerts: { new_follower: false }, policy: 'friends' } } });

export const PushSubscriptionSchema = z
  .object({
    id: z.string(),
    endpoint: z.string(),
    alerts: AlertsOutSchema,
    policy: z.enum(PUSH_POLICIES),
    server_key: z.string().openapi({ description: "The server's VAPID public key (as `GET /push/server_key`): subscribe with it as `applicationServerKey`." }),
  })
  .openapi('WebPushSubscription', {
    example: {
      id: '01JC7C3D4E5F6G7H8J9K0M1N2P',
      endpoint: 'https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bH',
      alerts: Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, type !== 'post_like'])),
      policy: 'all',
      server_key: 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U',
    },
  });

export const ServerKeySchema = z
  .object({ public_key: z.string().openapi({ description: 'The VAPID public key: the 65-byte uncompressed P-256 point, base64url.' }) })
  .openapi('PushServerKey', { example: { public_key: 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U' } });
