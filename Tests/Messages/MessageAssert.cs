using System.Buffers;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

/// <summary>Field-by-field comparison of messages; byte fields compare by content, not by which buffer holds them.</summary>
internal static class MessageAssert
{
    public static void Equal(Message expected, Message actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        switch (expected)
        {
            case Setup e:
                var s = (Setup)actual;
                Assert.Equal(e.MinVersion, s.MinVersion);
                Assert.Equal(e.MaxVersion, s.MaxVersion);
                BytesEqual(e.EphemeralPublicKey, s.EphemeralPublicKey);
                Assert.Equal(e.LocalEndpoint, s.LocalEndpoint);
                Assert.Equal(e.RemoteEndpoint, s.RemoteEndpoint);
                Assert.Equal(e.Mtu, s.Mtu);
                Assert.Equal(e.SharedCredit, s.SharedCredit);
                BytesEqual(e.Ciphers, s.Ciphers);
                BytesEqual(e.Nonce, s.Nonce);
                break;
            case Auth e:
                var a = (Auth)actual;
                BytesEqual(e.Blessings, a.Blessings);
                BytesEqual(e.Discharges, a.Discharges);
                BytesEqual(e.Signature, a.Signature);
                break;
            case OpenFlow e:
                var o = (OpenFlow)actual;
                Assert.Equal(e.FlowId, o.FlowId);
                Assert.Equal(e.InitialCredit, o.InitialCredit);
                Assert.Equal(e.Flags, o.Flags);
                BytesEqual(e.Payload, o.Payload);
                break;
            case Data e:
                var d = (Data)actual;
                Assert.Equal(e.FlowId, d.FlowId);
                Assert.Equal(e.Flags, d.Flags);
                BytesEqual(e.Payload, d.Payload);
                break;
            case Release e:
                Assert.Equal(e.Credits, ((Release)actual).Credits);
                break;
            case ProxyResponse e:
                Assert.Equal(e.Endpoints, ((ProxyResponse)actual).Endpoints);
                break;
            default:
                // The remaining records hold only scalars and strings, so record equality is exact.
                Assert.Equal(expected, actual);
                break;
        }
    }

    public static void BytesEqual(ReadOnlySequence<byte> expected, ReadOnlySequence<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.ToArray().AsSpan().SequenceEqual(actual.ToArray()), "byte fields differ");
    }

    public static void BadArg(Action action)
    {
        FlowException e = Assert.Throws<FlowException>(action);
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }
}
