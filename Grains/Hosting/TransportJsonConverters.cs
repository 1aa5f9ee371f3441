using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using Newtonsoft.Json;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// How grain storage's JSON (Orleans' default grain storage serializer) writes transport values in persisted state: as
/// their printed forms, the same JSON strings the state held before those values were typed, so stored pins and
/// registrations read back either way.
/// </summary>
internal static class TransportJsonConverters
{
    public static void AddTo(JsonSerializerSettings settings)
    {
        settings.Converters.Add(new EndpointJsonConverter());
        settings.Converters.Add(new RoutingIdJsonConverter());
    }

    /// <summary>An <see cref="Endpoint"/> as its v6 string, which parses back equal.</summary>
    private sealed class EndpointJsonConverter : JsonConverter<Endpoint>
    {
        public override void WriteJson(JsonWriter writer, Endpoint? value, JsonSerializer serializer) => writer.WriteValue(value?.ToString());

        public override Endpoint? ReadJson(JsonReader reader, Type objectType, Endpoint? existingValue, bool hasExistingValue, JsonSerializer serializer) =>
            reader.Value is string text ? Endpoint.Parse(text) : null;
    }

    /// <summary>A <see cref="RoutingId"/> as its 32 hex digits.</summary>
    private sealed class RoutingIdJsonConverter : JsonConverter<RoutingId>
    {
        public override void WriteJson(JsonWriter writer, RoutingId value, JsonSerializer serializer) => writer.WriteValue(value.ToString());

        public override RoutingId ReadJson(JsonReader reader, Type objectType, RoutingId existingValue, bool hasExistingValue, JsonSerializer serializer) =>
            reader.Value is string text ? RoutingId.Parse(text) : throw new FlowException(FlowErrorCode.BadArg, "A stored routing ID is not a string.");
    }
}
