using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Fuzz.Targets;

/// <summary>
/// The endpoint parser, <see cref="Endpoint.Parse"/> and <see cref="Endpoint.TryParse"/>, over arbitrary strings
/// (<see cref="FuzzText"/>). Invariants: <c>Parse</c> returns or throws <see cref="FlowException"/> with
/// <see cref="FlowErrorCode.BadArg"/>, and <c>TryParse</c> agrees with it; a parsed endpoint prints to a string that
/// parses back to an equal endpoint with the same hash and the same string (print-parse round trip), and
/// <see cref="Endpoint.Create"/> accepts its parts and builds an equal endpoint. Routing IDs likewise.
/// </summary>
internal sealed class EndpointTarget : FuzzTarget
{
    public override string Name => "endpoint";

    public override int MaxLength => 1024;

    public override void Run(ReadOnlySpan<byte> input)
    {
        string text = FuzzText.Decode(input);
        Endpoint? parsed = null;
        try
        {
            parsed = Endpoint.Parse(text);
        }
        catch (FlowException e)
        {
            Invariant.RejectedWith(e, FlowErrorCode.BadArg, "Endpoint.Parse");
        }

        bool tried = Endpoint.TryParse(text, out var tryParsed);
        Invariant.True(tried == (parsed is not null), $"TryParse said {tried} where Parse {(parsed is null ? "threw" : "succeeded")}");
        if (parsed is not null)
        {
            Invariant.True(parsed.Equals(tryParsed), "TryParse and Parse gave different endpoints");
            CheckRoundTrip(parsed);
        }

        CheckRoutingId(text);
    }

    private static void CheckRoundTrip(Endpoint endpoint)
    {
        string printed = endpoint.ToString();
        Endpoint reparsed;
        try
        {
            reparsed = Endpoint.Parse(printed);
        }
        catch (FlowException e)
        {
            throw new InvariantViolationException($"the printed form \"{printed}\" of a parsed endpoint does not parse", e);
        }

        Invariant.True(reparsed.Equals(endpoint) && endpoint.Equals(reparsed), $"\"{printed}\" parses to another endpoint, \"{reparsed}\"");
        Invariant.True(reparsed.GetHashCode() == endpoint.GetHashCode(), $"equal endpoints \"{printed}\" hash differently");
        Invariant.True(reparsed.ToString() == printed, $"\"{printed}\" prints back as \"{reparsed}\"");

        Endpoint created;
        try
        {
            created = Endpoint.Create(
                endpoint.Protocol, endpoint.Address, endpoint.RoutingId, endpoint.BlessingNames, endpoint.Routes, endpoint.ServesMountTable);
        }
        catch (FlowException e)
        {
            throw new InvariantViolationException($"Endpoint.Create refuses the parts of the parsed endpoint \"{printed}\"", e);
        }

        Invariant.True(created.Equals(endpoint), $"Endpoint.Create from the parts of \"{printed}\" gives \"{created}\"");
    }

    private static void CheckRoutingId(string text)
    {
        bool valid = RoutingId.TryParse(text, out var id);
        try
        {
            var parsed = RoutingId.Parse(text);
            Invariant.True(valid && parsed == id, $"RoutingId.Parse accepts \"{text}\" but TryParse does not agree");
            Invariant.True(RoutingId.Parse(id.ToString()) == id, $"routing id {id} does not survive print-parse");
        }
        catch (FlowException e)
        {
            Invariant.RejectedWith(e, FlowErrorCode.BadArg, "RoutingId.Parse");
            Invariant.True(!valid, $"RoutingId.TryParse accepts \"{text}\" but Parse throws");
        }
    }

    public override IEnumerable<KeyValuePair<string, byte[]>> Seeds()
    {
        string[] texts =
        [
            "@6@tcp@127.0.0.1:8100@@3ded2baec30be87bfbef920de2c9baa5@s@flow-manager@@",
            "@6@wsh@[::1]:80@@00000000000000000000000000000401@m@a:b,c@@",
            "@6@tcp@host:1@@@s@@",
            "@6@@@@3ded2baec30be87bfbef920de2c9baa5@s@@@",
            "@6@tcp@proxy:1@3ded2baec30be87bfbef920de2c9baa5,00000000000000000000000000000401@@s@@@",
            "@6@unix@/tmp/a%40b@@@s@@@",
            "@6@memory@a@@@m@@@",
            "@6@tcp@h:1@@00000000000000000000000000000000@s@x,y,z@@",
            "6@tcp@h:1@@@s@@",
            "127.0.0.1:8100",
            "[::1]:8100#",
            "(dev.v.io:u:alice)@ns.dev.v.io:8101",
            "localhost:0",
            "3ded2baec30be87bfbef920de2c9baa5",
            "@6@tcp@h%2:1@@@s@@",
            "@5@tcp@h:1@@",
            "@@",
            "",
        ];
        for (int i = 0; i < texts.Length; i++)
        {
            yield return new($"text-{i:D2}", FuzzText.Utf8(texts[i]));
        }

        yield return new("utf16-lone-surrogate", FuzzText.Utf16("@6@tcp@h:1@@@s@\ud800@@"));
    }
}
