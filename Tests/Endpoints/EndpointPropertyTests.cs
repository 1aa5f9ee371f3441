using CsCheck;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

/// <summary>Round-trip and robustness properties over generated endpoints and strings.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EndpointPropertyTests
{
    // Separators, escapes and look-alikes of every field, plus non-ASCII text and a lone surrogate.
    private const string Tricky = "@%,:#()[]ms6lxAF09 .\n\u00e9\u540d\ud83d";

    private static readonly Gen<string> TrickyText = Text(Tricky);

    private static readonly Gen<string> Protocol = Text(Tricky.Replace("@", "", StringComparison.Ordinal));

    private static readonly Gen<string> BlessingName = Text(Tricky.Replace(",", "", StringComparison.Ordinal));

    private static readonly Gen<string[]> Routes = List(TrickyText);

    private static readonly Gen<string[]> BlessingNames = List(BlessingName);

    private static readonly Gen<RoutingId> RoutingIds =
        Gen.Frequency((1, Gen.Const(RoutingId.Null)), (4, Gen.Select(Gen.ULong, Gen.ULong, (h, l) => new RoutingId(h, l))));

    private static readonly Gen<Endpoint> Endpoints =
        Gen.Select(Protocol, TrickyText, Routes, RoutingIds, Gen.Bool, BlessingNames)
            .Select(t => Endpoint.Create(t.Item1, t.Item2, t.Item4, t.Item6, t.Item3, t.Item5));

    [Fact]
    public void PrintingThenParsingGivesAnEqualEndpoint()
    {
        Endpoints.Sample(
            endpoint =>
            {
                var printed = endpoint.ToString();
                var parsed = Endpoint.Parse(printed);
                Assert.Equal(endpoint, parsed);
                Assert.Equal(endpoint.GetHashCode(), parsed.GetHashCode());
                Assert.Equal(printed, parsed.ToString());
            },
            iter: 5_000);
    }

    [Fact]
    public void AnyStringEitherParsesToAStableEndpointOrIsBadArg()
    {
        // Mostly near-valid v6 strings and short forms, so that both acceptance and every rejection are reached.
        var candidates = Gen.OneOf(
            Text(Tricky, 60),
            Gen.Select(TrickyText, TrickyText, (a, b) => "@6@" + a + "@" + b),
            Gen.Select(Gen.Int[0, 3], Text(Tricky, 40), (n, tail) => "@6@tcp@" + new string('@', n) + tail),
            Gen.Select(BlessingName, TrickyText, (b, hp) => "(" + b + ")@" + hp),
            Endpoints.Select(e => e.ToString()).Select(Gen.Int[0, 200], (s, cut) => s[..Math.Min(cut, s.Length)]));

        candidates.Sample(
            input =>
            {
                if (Endpoint.TryParse(input, out var endpoint))
                {
                    var canonical = endpoint.ToString();
                    Assert.Equal(endpoint, Endpoint.Parse(canonical));
                    Assert.Equal(canonical, Endpoint.Parse(canonical).ToString());
                }
                else
                {
                    var error = Assert.Throws<FlowException>(() => Endpoint.Parse(input));
                    Assert.Equal(FlowErrorCode.BadArg, error.Code);
                }
            },
            iter: 5_000);
    }

    [Fact]
    public void RoutingIdTextAndWireFormsRoundTrip()
    {
        Gen.Select(Gen.ULong, Gen.ULong, (h, l) => new RoutingId(h, l)).Sample(
            id =>
            {
                var text = id.ToString();
                Assert.Equal(id, RoutingId.Parse(text));
                Assert.Equal(id, RoutingId.Parse(text.ToUpperInvariant()));
                Span<byte> bytes = stackalloc byte[RoutingId.Size];
                id.WriteTo(bytes);
                Assert.Equal(id, RoutingId.Read(bytes));
            },
            iter: 2_000);
    }

    private static Gen<string> Text(string alphabet, int maxLength = 12) =>
        Gen.Char[alphabet].Array[0, maxLength].Select(chars => new string(chars));

    // Lists of up to four elements, except the single empty element, which Create rejects (it would print
    // as an empty list).
    private static Gen<string[]> List(Gen<string> element) =>
        element.Array[0, 4].Where(items => items is not [""]);
}
